// The REST API of `ferry server` (DESIGN.md section 7) on cpp-httplib.
//
//   GET  /api/v1/pipes                    status of every pipe
//   GET  /api/v1/pipes/{name}             status of one pipe
//   GET  /api/v1/pipes/{name}/tables      initial-load statistics per table
//   GET  /api/v1/pipes/{name}/history     state transitions
//   GET  /api/v1/pipes/{name}/metrics     the last hour of rows/s, bytes/s and lag (sampled here)
//   GET  /api/v1/peers                    peers, without secrets
//   POST /api/v1/pipes/{name}/{action}    pause|resume|resync|reset|delete
//   POST /api/v1/apply[?prune=true]       YAML config body -> PipeManager::apply
//   GET  /metrics                         Prometheus text format
//   GET  /api/v1/openapi.json             the OpenAPI 3 document (docs/openapi.json, built in)
//   GET  /, /ui/{file}                    the web console (web/, built in; server/web_assets.h)
//
// JSON in and out; errors are {"error": "..."} with a 4xx/5xx status. Reads go
// to the catalog, every mutation goes through the PipeManager. When a bearer
// token is configured, POSTs need `Authorization: Bearer <token>` (401
// otherwise); GETs stay open. The token is never logged.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
}

namespace ferry {

class PipeManager;
class MetricsHistory;

// One registered endpoint, its path in OpenAPI form ("/api/v1/pipes/{name}").
// The OpenAPI test compares this table with docs/openapi.json.
struct ApiRoute {
  std::string method;  // "GET" | "POST"
  std::string path;
  bool operator==(const ApiRoute&) const = default;
};

struct ListenAddress {
  std::string host;  // as given, without brackets for IPv6
  int port = 0;
  std::string to_string() const;  // "host:port", IPv6 in brackets
};
// "127.0.0.1:7420", "[::1]:7420", "localhost:7420", ":7420" (all interfaces).
// Throws Error(Config) naming the text and the expected form.
ListenAddress parse_listen(const std::string& text);
// 127.0.0.0/8, ::1, ::ffff:127.x, "localhost".
bool is_loopback(const std::string& host);

struct ApiServerOptions {
  ListenAddress listen;
  std::optional<std::string> token;  // required on POST when set
  // How often the Metrics tab's series is sampled (server/metrics_history.h).
  std::chrono::milliseconds sample_interval = std::chrono::seconds(2);
};

class ApiServer {
 public:
  ApiServer(PipeManager& manager, ApiServerOptions options);
  ~ApiServer();

  // Binds the socket; throws Error(Config) naming the address when it cannot.
  // Returns the bound port (useful with port 0).
  int bind();
  // Serves until stop() is called (from another thread). Returns false on a socket error.
  bool serve();
  void stop();
  bool running() const;

  // Every endpoint registered, in registration order.
  const std::vector<ApiRoute>& route_table() const { return routes_; }

 private:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  void routes();
  void console_routes();
  // Registers `handler` for `path` ({param} segments match one path segment) and
  // records it in the route table.
  void add_route(const std::string& method, const std::string& path, Handler handler);
  void sampler_loop();

  PipeManager& manager_;
  ApiServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::vector<ApiRoute> routes_;
  std::unique_ptr<MetricsHistory> history_;
  std::mutex sampler_mu_;
  std::condition_variable sampler_cv_;
  bool sampler_stop_ = false;
};

}  // namespace ferry
