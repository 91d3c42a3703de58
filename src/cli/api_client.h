// A small libcurl client for the ferry server's REST API (the CLI's `pipe` and
// `apply` commands). Sends $FERRY_API_TOKEN as a bearer token when set.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace ferry::cli {

struct ApiResponse {
  long status = 0;
  std::string body;
  // The body as JSON; a non-JSON body becomes {"error": body}.
  nlohmann::json json() const;
  // The "error" (or "message") of the body, else the body text.
  std::string message() const;
};

class ApiClient {
 public:
  // `base_url` like http://127.0.0.1:7420 (a trailing slash is ignored).
  explicit ApiClient(std::string base_url, std::string token = "");

  // Throws Error(Config) naming the URL when the server cannot be reached.
  ApiResponse get(const std::string& path) const;
  ApiResponse post(const std::string& path, const std::string& body, const std::string& content_type) const;

  const std::string& base_url() const { return base_; }
  // Percent-encodes one path segment or query value.
  static std::string escape(const std::string& s);

 private:
  ApiResponse request(const std::string& method, const std::string& path, const std::string* body,
                      const std::string& content_type) const;
  std::string base_;
  std::string token_;
};

// The process environment's token ($FERRY_API_TOKEN), empty when unset.
std::string token_from_env();

}  // namespace ferry::cli
