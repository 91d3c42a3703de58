#include "server/http_server.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <httplib.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "pipe/config.h"
#include "pipe/precheck.h"
#include "server/api_json.h"
#include "server/metrics.h"
#include "server/metrics_history.h"
#include "server/pipe_manager.h"
#include "server/web_assets.h"

namespace ferry {

using nlohmann::json;

std::string ListenAddress::to_string() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

ListenAddress parse_listen(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return config_error(fmt::format("--listen \"{}\": {}; expected HOST:PORT like 127.0.0.1:7420, [::1]:7420 or "
                                    "0.0.0.0:7420",
                                    text, why));
  };
  ListenAddress a;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') throw bad("bad IPv6 form");
    a.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) throw bad("no port");
    a.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (a.host.find(':') != std::string::npos) throw bad("IPv6 addresses go in brackets");
  }
  if (a.host.empty()) a.host = "0.0.0.0";
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) throw bad("bad port");
  a.port = std::stoi(port);
  if (a.port > 65535) throw bad("port out of range");
  return a;
}

bool is_loopback(const std::string& host) {
  std::string h = host;
  std::transform(h.begin(), h.end(), h.begin(), ::tolower);
  if (h == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127;
  }
  return false;
}

namespace {

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // Messages may quote request bytes that are not UTF-8 (a parser's complaint): replaced, never a 500.
  res.set_content(body.dump(2, ' ', false, json::error_handler_t::replace) + "\n", "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, error_json(message));
}

// Constant-time comparison: the answer time does not reveal how much of a guess was right.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (b.empty() ? 0 : b[i % b.size()]));
  return diff == 0;
}

bool yaml_content_type(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  t.erase(std::remove_if(t.begin(), t.end(), ::isspace), t.end());
  std::transform(t.begin(), t.end(), t.begin(), ::tolower);
  return t.empty() || t == "application/yaml" || t == "application/x-yaml" || t == "text/yaml" ||
         t == "text/x-yaml" || t == "text/plain" || t == "application/json";
}

}  // namespace

ApiServer::ApiServer(PipeManager& manager, ApiServerOptions options)
    : manager_(manager),
      options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()),
      history_(std::make_unique<MetricsHistory>(options_.sample_interval)) {
  routes();
  console_routes();
}

ApiServer::~ApiServer() = default;

void ApiServer::add_route(const std::string& method, const std::string& path, Handler handler) {
  // "{name}" -> one path segment; the rest of the path is literal (no regex characters in our paths).
  std::string pattern;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      i = path.find('}', i);
      pattern += "([^/]+)";
    } else {
      if (path[i] == '.') pattern += '\\';
      pattern += path[i];
    }
  }
  if (method == "GET") http_->Get(pattern, std::move(handler));
  else if (method == "POST") http_->Post(pattern, std::move(handler));
  else throw std::logic_error("add_route: unsupported method " + method);
  routes_.push_back({method, path});
}

void ApiServer::sampler_loop() {
  std::unique_lock<std::mutex> lock(sampler_mu_);
  while (!sampler_stop_) {
    lock.unlock();
    try {
      history_->sample(manager_.catalog(), manager_.metrics(), to_epoch_ms(Clock::system().now()));
    } catch (const std::exception& e) {
      spdlog::warn("api: metrics sample failed: {}", e.what());
    }
    lock.lock();
    sampler_cv_.wait_for(lock, options_.sample_interval, [this] { return sampler_stop_; });
  }
}

int ApiServer::bind() {
  int port = options_.listen.port;
  bool ok;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.listen.host);
    ok = port > 0;
  } else {
    ok = http_->bind_to_port(options_.listen.host, port);
  }
  if (!ok)
    throw config_error(fmt::format("cannot listen on {}: the address is in use or not available on this host",
                                   options_.listen.to_string()));
  return port;
}

bool ApiServer::serve() {
  {
    std::lock_guard<std::mutex> lock(sampler_mu_);
    sampler_stop_ = false;
  }
  std::thread sampler([this] { sampler_loop(); });
  bool ok = http_->listen_after_bind();
  {
    std::lock_guard<std::mutex> lock(sampler_mu_);
    sampler_stop_ = true;
  }
  sampler_cv_.notify_all();
  sampler.join();
  return ok;
}

void ApiServer::stop() { http_->stop(); }

bool ApiServer::running() const { return http_->is_running(); }

void ApiServer::routes() {
  httplib::Server& s = *http_;
  s.set_payload_max_length(8 << 20);

  // Every handler answers JSON; a cause we did not foresee still gets one.
  auto guarded = [](auto handler) {
    return [handler](const httplib::Request& req, httplib::Response& res) {
      try {
        handler(req, res);
      } catch (const Error& e) {
        send_error(res, e.kind() == ErrorKind::Config ? 400 : 500, e.what());
      } catch (const std::exception& e) {
        spdlog::error("api: {} {}: {}", req.method, req.path, e.what());
        send_error(res, 500, std::string("internal error: ") + e.what());
      }
    };
  };

  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 404) send_error(res, 404, fmt::format("no such endpoint: {} {}", req.method, req.path));
        else if (res.status == 400)
          send_error(res, 400, "the request could not be read (a POST needs a body with a Content-Length, e.g. '{}')");
        else if (res.status == 413)
          send_error(res, 413, "the request body is larger than the server accepts (8 MiB)");
        else send_error(res, res.status, fmt::format("HTTP {}", res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    // Method, path and status only: headers (the token) are never logged.
    spdlog::debug("api: {} {} -> {}", req.method, req.path, res.status);
  });

  // Mutations need the bearer token when one is configured.
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!options_.token || req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
    std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    bool ok = auth.size() > prefix.size() && std::equal(prefix.begin(), prefix.end(), auth.begin(),
                                                        [](char a, char b) { return ::tolower(a) == ::tolower(b); }) &&
              same_secret(auth.substr(prefix.size()), *options_.token);
    if (ok) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, 401,
               auth.empty() ? "this server requires a bearer token for changes: send Authorization: Bearer <token> "
                              "(the ferry CLI sends $FERRY_API_TOKEN)"
                            : "the bearer token is not valid for this server");
    spdlog::warn("api: {} {} refused: {}", req.method, req.path, auth.empty() ? "no token" : "wrong token");
    return httplib::Server::HandlerResponse::Handled;
  });

  add_route("GET", "/api/v1/pipes", guarded([this](const httplib::Request&, httplib::Response& res) {
          Catalog& c = manager_.catalog();
          json out = json::array();
          for (const auto& rec : c.list_pipes()) out.push_back(pipe_status_json(c, rec));
          send_json(res, 200, out);
        }));

  add_route("GET", "/api/v1/pipes/{name}", guarded([this](const httplib::Request& req, httplib::Response& res) {
          Catalog& c = manager_.catalog();
          auto rec = c.get_pipe(req.matches[1]);
          if (!rec) return send_error(res, 404, fmt::format("no pipe named '{}'", req.matches[1].str()));
          send_json(res, 200, pipe_status_json(c, *rec));
        }));

  // Tables (initial load stats) and history of one pipe.
  auto pipe_document = [this, guarded](json (*document)(Catalog&, const std::string&)) {
    return guarded([this, document](const httplib::Request& req, httplib::Response& res) {
      Catalog& c = manager_.catalog();
      std::string name = req.matches[1];
      if (!c.get_pipe(name)) return send_error(res, 404, fmt::format("no pipe named '{}'", name));
      send_json(res, 200, document(c, name));
    });
  };
  add_route("GET", "/api/v1/pipes/{name}/tables", pipe_document(&pipe_tables_json));
  add_route("GET", "/api/v1/pipes/{name}/history", pipe_document(&pipe_history_json));

  add_route("GET", "/api/v1/pipes/{name}/metrics", guarded([this](const httplib::Request& req, httplib::Response& res) {
          std::string name = req.matches[1];
          if (!manager_.catalog().get_pipe(name)) return send_error(res, 404, fmt::format("no pipe named '{}'", name));
          send_json(res, 200, history_->series_json(name));
        }));

  add_route("GET", "/api/v1/peers", guarded([this](const httplib::Request&, httplib::Response& res) {
          send_json(res, 200, peers_json(manager_.catalog()));
        }));

  // Pre-check of a pipe against the real servers: 200 with every check, "ok" and the success
  // rate; {"confirm": true} accepts warnings in "ok".
  add_route("POST", "/api/v1/pipes/{name}/check", guarded([this](const httplib::Request& req, httplib::Response& res) {
           std::string name = req.matches[1];
           bool confirm = false;
           if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
             json j = json::parse(req.body, nullptr, false);
             if (j.is_discarded() || !j.is_object()) return send_error(res, 400, "request body must be a JSON object like {\"confirm\": false}");
             for (auto it = j.begin(); it != j.end(); ++it) {
               if (it.key() != "confirm") return send_error(res, 400, fmt::format("unknown field \"{}\"; valid fields: confirm", it.key()));
               if (!it->is_boolean()) return send_error(res, 400, fmt::format("field \"confirm\" is a {}; expected a boolean", it->type_name()));
               confirm = it->get<bool>();
             }
           }
           auto report = manager_.check(name);
           if (!report) return send_error(res, 404, fmt::format("no pipe named '{}'", name));
           json body = report->to_json();
           body["ok"] = report->ok(confirm);
           send_json(res, 200, body);
         }));

  // Compares the pipe's tables with their source, synchronously (the answer is the result);
  // PipeManager::compare says why it is safe to wait here.
  add_route("POST", "/api/v1/pipes/{name}/compare", guarded([this](const httplib::Request& req, httplib::Response& res) {
           std::string name = req.matches[1];
           auto parsed = parse_compare_request(req.body);
           if (auto* err = std::get_if<ApiError>(&parsed)) return send_error(res, err->status, err->message);
           const CompareRequest& request = std::get<CompareRequest>(parsed);
           CompareResult r = manager_.compare(name, request);
           if (r.status != 200) return send_error(res, r.status, r.message);
           spdlog::info("api: compare {} ({}): {} table(s)", name, to_string(request.level), r.tables.size());
           send_json(res, 200, comparison_json(name, request.level, r.tables));
         }));

  add_route("POST", "/api/v1/pipes/{name}/{action}", guarded([this](const httplib::Request& req, httplib::Response& res) {
           std::string name = req.matches[1], action = req.matches[2];
           auto parsed = parse_action_request(action, req.body);
           if (auto* err = std::get_if<ApiError>(&parsed)) return send_error(res, err->status, err->message);
           ActionResult r = manager_.act(name, std::get<ActionRequest>(parsed));
           spdlog::info("api: {} {} -> {}: {}", action, name, r.status, r.message);
           if (r.status >= 400) {
             json body = error_json(r.message);
             body["state"] = r.state ? json(to_string(*r.state)) : json();
             return send_json(res, r.status, body);
           }
           send_json(res, r.status, action_result_json(r));
         }));

  add_route("POST", "/api/v1/apply", guarded([this](const httplib::Request& req, httplib::Response& res) {
           std::string content_type = req.get_header_value("Content-Type");
           if (!yaml_content_type(content_type))
             return send_error(res, 415, fmt::format("Content-Type {} is not accepted; send the YAML config as "
                                                     "application/yaml or text/plain",
                                                     content_type));
           bool prune = false;
           if (req.has_param("prune")) {
             std::string p = req.get_param_value("prune");
             if (p == "true" || p == "1" || p.empty()) prune = true;
             else if (p == "false" || p == "0") prune = false;
             else return send_error(res, 400, fmt::format("query parameter prune=\"{}\": expected true or false", p));
           }
           bool confirm = req.has_param("confirm") && req.get_param_value("confirm") != "false" &&
                          req.get_param_value("confirm") != "0";
           if (req.body.find_first_not_of(" \t\r\n") == std::string::npos)
             return send_error(res, 400, "the request body is empty; expected a ferry config (YAML) with peers and pipes");
           std::string file = req.has_param("file") ? req.get_param_value("file") : "request body";
           ConfigCheck check = check_config(req.body, file, process_env());
           if (!check.ok()) {
             json body = error_json("the config has problems:\n" + format_problems(check.problems));
             body["problems"] = json::array();
             for (const auto& p : check.problems) body["problems"].push_back(p.to_string());
             return send_json(res, 400, body);
           }
           ApplyResult r = manager_.apply(check.config, prune, confirm);
           spdlog::info("api: apply{}: {} created, {} updated, {} removed, {} unchanged", prune ? " (prune)" : "",
                        r.created.size(), r.updated.size(), r.removed.size(), r.unchanged.size());
           // 409 when a new pipe was refused by its pre-check (the others were applied).
           json body = apply_result_json(r);
           if (!r.refused.empty()) {
             std::string names;
             for (const auto& [pipe, report] : r.refused) names += (names.empty() ? "" : ", ") + pipe;
             body["error"] = fmt::format("not created, the pre-check did not pass (confirm=true accepts warnings): {}", names);
           }
           send_json(res, r.refused.empty() ? 200 : 409, body);
         }));

  add_route("GET", "/metrics", guarded([this](const httplib::Request&, httplib::Response& res) {
          res.status = 200;
          res.set_content(render_prometheus(manager_.catalog(), manager_.metrics()), "text/plain; version=0.0.4; charset=utf-8");
        }));
}

// The console's files and the OpenAPI document, built into the binary. The page
// may only talk to this server (CSP), so nothing it does leaves the machine.
void ApiServer::console_routes() {
  auto send_asset = [](httplib::Response& res, const WebAsset& a) {
    res.status = 200;
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
                   "frame-ancestors 'none'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(a.body), std::string(a.content_type));
  };
  add_route("GET", "/", [send_asset](const httplib::Request&, httplib::Response& res) {
    send_asset(res, *find_web_asset("index.html"));
  });
  add_route("GET", "/ui/{file}", [send_asset](const httplib::Request& req, httplib::Response& res) {
    const WebAsset* a = find_web_asset(req.matches[1].str());
    if (!a || a->path == "openapi.json") return send_error(res, 404, fmt::format("no console file named '{}'", req.matches[1].str()));
    send_asset(res, *a);
  });
  add_route("GET", "/api/v1/openapi.json", [](const httplib::Request&, httplib::Response& res) {
    const WebAsset* a = find_web_asset("openapi.json");
    res.status = 200;
    res.set_content(std::string(a->body), "application/json");
  });
}

}  // namespace ferry
