#include "cli/api_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>

#include <fmt/format.h>

#include "core/error.h"

namespace ferry::cli {

namespace {

size_t append_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

nlohmann::json ApiResponse::json() const {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return {{"error", body}};
  return j;
}

std::string ApiResponse::message() const {
  nlohmann::json j = json();
  if (j.is_object()) {
    if (j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
    if (j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  }
  return body;
}

std::string token_from_env() {
  const char* t = std::getenv("FERRY_API_TOKEN");
  return t ? t : "";
}

ApiClient::ApiClient(std::string base_url, std::string token) : base_(std::move(base_url)), token_(std::move(token)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  if (base_.find("://") == std::string::npos) base_ = "http://" + base_;
}

std::string ApiClient::escape(const std::string& s) {
  curl_init_once();
  char* e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
  std::string out = e ? e : s;
  curl_free(e);
  return out;
}

ApiResponse ApiClient::get(const std::string& path) const { return request("GET", path, nullptr, ""); }

ApiResponse ApiClient::post(const std::string& path, const std::string& body, const std::string& content_type) const {
  return request("POST", path, &body, content_type);
}

ApiResponse ApiClient::request(const std::string& method, const std::string& path, const std::string* body,
                               const std::string& content_type) const {
  curl_init_once();
  CURL* curl = curl_easy_init();
  if (!curl) throw Error(ErrorKind::Transient, "cannot initialise libcurl");
  std::string url = base_ + path;
  ApiResponse resp;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  if (body) headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  std::string auth;
  if (!token_.empty()) {
    auth = "Authorization: Bearer " + token_;
    headers = curl_slist_append(headers, auth.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 300000L);  // delete waits for the runner to checkpoint
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    throw Error(ErrorKind::Transient,
                fmt::format("cannot reach the ferry server at {} ({}); is `ferry server` running there? Point "
                            "--server or $FERRY_SERVER at it (pipe list/status/tables/history can also read a "
                            "catalog file with --catalog PATH)",
                            base_, why));
  }
  return resp;
}

}  // namespace ferry::cli
