// The REST API of `ferry server` (DESIGN.md section 7) on cpp-httplib.
//
//   GET  /api/v1/pipes                    status of every pipe
//   GET  /api/v1/pipes/{name}             status of one pipe
//   GET  /api/v1/pipes/{name}/tables      initial-load statistics per table
//   GET  /api/v1/pipes/{name}/history     state transitions
//   GET  /api/v1/peers                    peers, without secrets
//   POST /api/v1/pipes/{name}/{action}    pause|resume|resync|reset|delete
//   POST /api/v1/apply[?prune=true]       YAML config body -> PipeManager::apply
//   GET  /metrics                         Prometheus text format
//
// JSON in and out; errors are {"error": "..."} with a 4xx/5xx status. Reads go
// to the catalog, every mutation goes through the PipeManager. When a bearer
// token is configured, POSTs need `Authorization: Bearer <token>` (401
// otherwise); GETs stay open. The token is never logged.
#pragma once
#include <memory>
#include <optional>
#include <string>

namespace httplib {
class Server;
}

namespace ferry {

class PipeManager;

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

 private:
  void routes();

  PipeManager& manager_;
  ApiServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace ferry
