#include "connectors/clickhouse/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>
#include <mutex>

#include "connectors/clickhouse/server_error.h"
#include "core/error.h"
#include "core/log.h"
#include "core/spec.h"

namespace ferry::clickhouse {

namespace {

std::once_flag g_curl_init;

// http://user:pass@host:port/x -> http://host:port/x
std::string strip_credentials(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t slash = url.find('/', start);
  size_t at = url.rfind('@', slash == std::string::npos ? url.size() : slash);
  if (at == std::string::npos || at < start) return url;
  return url.substr(0, start) + url.substr(at + 1);
}

std::string escape(CURL* curl, std::string_view s) {
  char* e = curl_easy_escape(curl, s.data(), static_cast<int>(s.size()));
  if (!e) throw std::bad_alloc();
  std::string out(e);
  curl_free(e);
  return out;
}

// What a request brings back: the body and the X-ClickHouse-Exception-Code header.
struct Answer {
  std::string body;
  std::string exception_code;

  static size_t on_write(char* data, size_t size, size_t n, void* self) {
    static_cast<Answer*>(self)->body.append(data, size * n);
    return size * n;
  }

  static size_t on_header(char* data, size_t size, size_t n, void* self) {
    std::string_view line(data, size * n);
    constexpr std::string_view key = "x-clickhouse-exception-code:";
    if (line.size() > key.size()) {
      bool match = true;
      for (size_t i = 0; i < key.size() && match; ++i)
        match = std::tolower(static_cast<unsigned char>(line[i])) == key[i];
      if (match) {
        std::string_view v = line.substr(key.size());
        while (!v.empty() && (v.front() == ' ')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
        static_cast<Answer*>(self)->exception_code = std::string(v);
      }
    }
    return size * n;
  }
};

// The request URL: the peer's url, ?database=, `extra` parameters, then either
// wait_end_of_query=1 (queries: `insert_sql` empty) or the INSERT statement.
std::string build_url(const HttpOptions& options, CURL* curl, std::string_view insert_sql,
                      const std::vector<std::pair<std::string_view, std::string_view>>& extra) {
  std::string url = options.url;
  size_t scheme = url.find("://");
  size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) url += '/';
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  auto param = [&](std::string_view name, std::string_view value) {
    url += sep;
    url += name;
    url += '=';
    url += escape(curl, value);
    sep = '&';
  };
  if (!options.database.empty()) param("database", options.database);
  for (const auto& [name, value] : extra) param(name, value);
  if (insert_sql.empty()) {
    param("wait_end_of_query", "1");
  } else {
    param("input_format_allow_errors_num", "0");
    param("input_format_allow_errors_ratio", "0");
    param("query", insert_sql);
  }
  return url;
}

// Options every request has: URL, timeouts, answer callbacks, POST, credential headers
// (appended to `headers`, which the caller frees).
void setup_request(CURL* curl, Answer* answer, const std::string& url, const HttpOptions& options,
                   curl_slist*& headers) {
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Answer::on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Answer::on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, answer);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  headers = curl_slist_append(headers, "Expect:");
  if (!options.user.empty()) headers = curl_slist_append(headers, ("X-ClickHouse-User: " + options.user).c_str());
  if (!options.password.empty())
    headers = curl_slist_append(headers, ("X-ClickHouse-Key: " + options.password).c_str());
}

constexpr size_t kStreamChunkBytes = size_t(1) << 20;

// One SELECT whose TabSeparated answer is pulled row chunk by row chunk (curl multi:
// no thread, the transfer advances only while the caller asks for rows).
class PulledQuery final : public CopyStream {
 public:
  PulledQuery(const HttpOptions& options, const std::string& endpoint, std::string sql)
      : sql_(std::move(sql)), endpoint_(endpoint), what_("query '" + shorten_sql(sql_) + "'") {
    easy_ = curl_easy_init();
    multi_ = curl_multi_init();
    if (!easy_ || !multi_) throw std::bad_alloc();
    // The server buffers the whole answer (beyond buffer_size in a temporary file) before
    // sending it, so that a failing query is an HTTP error, never a cut-off 200.
    setup_request(easy_, &answer_, build_url(options, easy_, {}, {{"buffer_size", "1048576"}}), options, headers_);
    curl_easy_setopt(easy_, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(easy_, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_s);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, sql_.c_str());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(sql_.size()));
    curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    curl_multi_add_handle(multi_, easy_);
    spdlog::debug("clickhouse {}: streaming {}", endpoint_, what_);
  }

  ~PulledQuery() override {
    curl_multi_remove_handle(multi_, easy_);
    curl_easy_cleanup(easy_);
    curl_multi_cleanup(multi_);
    curl_slist_free_all(headers_);
  }

  bool next_chunk(std::string& out) override {
    std::string& buf = answer_.body;
    for (;;) {
      if (finished_) {
        if (buf.empty()) return false;
        if (buf.back() != '\n') throw transient_error("ClickHouse answer to " + what_ + " ended in the middle of a row");
        out += buf;
        buf.clear();
        return true;
      }
      if (buf.size() >= kStreamChunkBytes && status() == 200) {
        size_t nl = buf.rfind('\n');
        if (nl != std::string::npos) {
          out.append(buf, 0, nl + 1);
          buf.erase(0, nl + 1);
          return true;
        }
      }
      int running = 0;
      CURLMcode mc = curl_multi_perform(multi_, &running);
      if (mc != CURLM_OK) throw transient_error(std::string("curl: ") + curl_multi_strerror(mc));
      if (running == 0) {
        finish();
        continue;
      }
      curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
  }

 private:
  long status() {
    long s = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &s);
    return s;
  }

  void finish() {
    finished_ = true;
    CURLcode rc = CURLE_OK;
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi_, &left))
      if (m->msg == CURLMSG_DONE) rc = m->data.result;
    long s = status();
    if (s != 0 && s != 200) throw http_status_error(s, answer_.body, answer_.exception_code, what_);
    if (rc != CURLE_OK) {
      std::string detail = errbuf_[0] ? errbuf_ : curl_easy_strerror(rc);
      throw transient_error("cannot reach ClickHouse at " + endpoint_ + " (" + detail + ") during " + what_);
    }
  }

  std::string sql_, endpoint_, what_;
  CURL* easy_ = nullptr;
  CURLM* multi_ = nullptr;
  curl_slist* headers_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE] = {0};
  Answer answer_;
  bool finished_ = false;
};

}  // namespace

HttpOptions http_options(const PeerSpec& peer) {
  HttpOptions o;
  o.url = peer.url;
  o.user = peer.user;
  o.password = peer.password;
  return o;
}

std::string shorten_sql(std::string_view sql, size_t max) {
  std::string s(sql.substr(0, max));
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (sql.size() > max) s += "...";
  return s;
}

struct HttpClient::Exchange : Answer {
  curl_slist* headers = nullptr;

  // Upload state (insert_stream).
  const Producer* producer = nullptr;
  std::string_view poison;
  std::string piece;
  size_t pos = 0;
  bool ended = false;
  bool discarded = false;  // a piece already handed to curl was dropped: cannot rewind
  std::exception_ptr error;

  ~Exchange() {
    if (headers) curl_slist_free_all(headers);
  }

  static size_t on_read(char* buffer, size_t size, size_t n, void* self) {
    auto* x = static_cast<Exchange*>(self);
    try {
      while (x->pos >= x->piece.size()) {
        if (x->ended) return 0;
        if (!x->piece.empty()) x->discarded = true;
        x->piece.clear();
        x->pos = 0;
        if (!(*x->producer)(x->piece)) {
          x->ended = true;
          return 0;
        }
      }
      size_t len = std::min(size * n, x->piece.size() - x->pos);
      std::memcpy(buffer, x->piece.data() + x->pos, len);
      x->pos += len;
      return len;
    } catch (...) {
      // End the body with rows that cannot be parsed, so that the server fails the
      // INSERT instead of committing what it got (see insert_stream()).
      x->error = std::current_exception();
      x->piece.assign(x->poison);
      x->pos = 0;
      x->ended = true;
      x->discarded = true;
      size_t len = std::min(size * n, x->piece.size());
      std::memcpy(buffer, x->piece.data(), len);
      x->pos = len;
      return len;
    }
  }

  // curl rewinds when it retries on a reused connection that turned out dead; possible
  // as long as the first piece is still whole in memory.
  static int on_seek(void* self, curl_off_t offset, int origin) {
    auto* x = static_cast<Exchange*>(self);
    if (origin != SEEK_SET || offset != 0 || x->discarded) return CURL_SEEKFUNC_CANTSEEK;
    x->pos = 0;
    return CURL_SEEKFUNC_OK;
  }
};

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) {
  if (options_.url.empty()) throw config_error("ClickHouse peer has no url (expected e.g. http://127.0.0.1:8123)");
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  endpoint_ = strip_credentials(options_.url);
  curl_ = curl_easy_init();
  if (!curl_) throw std::bad_alloc();
}

HttpClient::~HttpClient() {
  if (curl_) curl_easy_cleanup(curl_);
}

std::string HttpClient::make_url(std::string_view insert_sql,
                                 const std::vector<std::pair<std::string_view, std::string_view>>& extra) const {
  return build_url(options_, curl_, insert_sql, extra);
}

void HttpClient::prepare(Exchange& x, const std::string& url) {
  curl_easy_reset(curl_);  // keeps the connection cache
  setup_request(curl_, &x, url, options_, x.headers);
}

void HttpClient::perform(Exchange& x, std::string_view what) {
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, x.headers);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(curl_);
  long status = 0;
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);  // x.headers is freed with x
  if (x.error) std::rethrow_exception(x.error);          // the producer failed: its error is the cause
  // The server may answer an insert with an error (and close) before it read the whole
  // body; its answer is the real cause even when curl then reports a send error.
  if (status != 0 && status != 200 && (rc == CURLE_OK || !x.body.empty()))
    throw http_status_error(status, x.body, x.exception_code, what);
  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
      throw config_error("ClickHouse url " + endpoint_ + " is not usable: " + detail);
    throw transient_error("cannot reach ClickHouse at " + endpoint_ + " (" + detail + ") during " + std::string(what));
  }
  if (status != 200) throw http_status_error(status, x.body, x.exception_code, what);
}

std::string HttpClient::query(std::string_view sql) {
  Exchange x;
  std::string what = "query '" + shorten_sql(sql) + "'";
  spdlog::debug("clickhouse {}: {}", endpoint_, what);
  prepare(x, make_url({}));
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, sql.data());
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(sql.size()));
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, options_.query_timeout_ms);
  perform(x, what);
  return std::move(x.body);
}

std::string HttpClient::query_with_table(std::string_view sql, std::string_view table, std::string_view structure,
                                         std::string_view tsv) {
  Exchange x;
  std::string what = "query '" + shorten_sql(sql) + "'";
  spdlog::debug("clickhouse {}: {} with {} bytes of {}", endpoint_, what, tsv.size(), table);
  std::string structure_param = std::string(table) + "_structure";
  std::string format_param = std::string(table) + "_format";
  prepare(x, make_url({}, {{structure_param, structure}, {format_param, "TabSeparated"}}));
  // The query goes in the form, not the URL: it can be longer than a URL may be.
  curl_mime* mime = curl_mime_init(curl_);
  if (!mime) throw std::bad_alloc();
  struct MimeGuard {
    curl_mime* m;
    ~MimeGuard() { curl_mime_free(m); }
  } guard{mime};
  curl_mimepart* part = curl_mime_addpart(mime);
  curl_mime_name(part, "query");
  curl_mime_data(part, sql.data(), sql.size());
  part = curl_mime_addpart(mime);
  std::string name(table);
  curl_mime_name(part, name.c_str());
  curl_mime_filename(part, (name + ".tsv").c_str());  // a file part: ClickHouse takes it as a table
  curl_mime_data(part, tsv.data(), tsv.size());
  curl_easy_setopt(curl_, CURLOPT_MIMEPOST, mime);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, options_.query_timeout_ms);
  perform(x, what);
  curl_easy_setopt(curl_, CURLOPT_MIMEPOST, nullptr);
  return std::move(x.body);
}

std::unique_ptr<CopyStream> HttpClient::query_stream(std::string sql) const {
  return std::make_unique<PulledQuery>(options_, endpoint_, std::move(sql));
}

void HttpClient::insert_stream(std::string_view sql, const Producer& producer, std::string_view poison) {
  Exchange x;
  x.producer = &producer;
  x.poison = poison;
  std::string what = "'" + shorten_sql(sql) + "'";
  spdlog::debug("clickhouse {}: streaming {}", endpoint_, what);
  prepare(x, make_url(sql));
  x.headers = curl_slist_append(x.headers, "Transfer-Encoding: chunked");
  x.headers = curl_slist_append(x.headers, "Content-Type: text/tab-separated-values; charset=UTF-8");
  curl_easy_setopt(curl_, CURLOPT_READFUNCTION, &Exchange::on_read);
  curl_easy_setopt(curl_, CURLOPT_READDATA, &x);
  curl_easy_setopt(curl_, CURLOPT_SEEKFUNCTION, &Exchange::on_seek);
  curl_easy_setopt(curl_, CURLOPT_SEEKDATA, &x);
  curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_s);
  perform(x, what);
}

}  // namespace ferry::clickhouse
