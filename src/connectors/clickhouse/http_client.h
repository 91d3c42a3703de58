// ClickHouse HTTP interface over libcurl: small queries, and streaming inserts whose body
// is pulled from a producer so that a partition is never held in memory.
//
// One CURL handle per client, reused (with its connection) across requests. Not
// thread-safe: one client per thread. The password is sent in the X-ClickHouse-Key header
// (18.16 already reads X-ClickHouse-User/Key) and never appears in URLs, logs or errors.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/api/copy_stream.h"

typedef void CURL;

namespace ferry {
struct PeerSpec;
}

namespace ferry::clickhouse {

struct HttpOptions {
  std::string url;       // http://host:8123 (a path prefix is kept)
  std::string user;      // empty: the server's default user
  std::string password;  // never logged
  std::string database;  // sent as ?database= when not empty
  long connect_timeout_ms = 10000;
  long query_timeout_ms = 600000;  // whole request, query()
  long stall_timeout_s = 600;      // insert_stream(): give up when nothing moves this long
};

// A ClickHouse peer's url, user and password. No ?database=: the database may not
// exist yet, and every statement names it.
HttpOptions http_options(const PeerSpec& peer);

// Reading answers (tsv_rows, answer_value): tsv_answer.h.
// SQL for messages: at most `max` characters, on one line.
std::string shorten_sql(std::string_view sql, size_t max = 200);

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Runs one statement (POST body = SQL) and returns the answer body. With
  // wait_end_of_query=1 so that an error is never hidden behind a 200 header.
  // Throws ferry::Error: Transient when the server cannot be reached or times out,
  // otherwise classified by the ClickHouse error code (see server_error.h).
  std::string query(std::string_view sql);

  // Runs one query that reads a temporary table sent along with it (ClickHouse "external
  // data": a multipart/form-data body with the query and the table's rows), e.g. keys to
  // look up: "SELECT ... WHERE k IN _keys". `structure` is "name Type, name Type" (names and
  // types without commas or spaces: 18.16 splits it on them); `tsv` the rows in
  // TabSeparated. No limit on the number of rows (unlike a literal list in the query text,
  // which max_query_size bounds). Errors as query().
  std::string query_with_table(std::string_view sql, std::string_view table, std::string_view structure,
                               std::string_view tsv);

  // Runs one SELECT (FORMAT TabSeparated) whose answer is pulled whole rows at a time
  // (about 1 MB per chunk) on its own connection, without a thread: the transfer
  // advances only while the caller asks for rows. Thread-safe (several may run at once).
  // The server buffers the whole answer first (wait_end_of_query), so a failing query
  // is an error, never a cut-off answer. Errors as query().
  std::unique_ptr<CopyStream> query_stream(std::string sql) const;

  // Appends the next piece of the body to `out` (empty on entry); returns false at the
  // end. Pieces must end at row boundaries. May throw: see insert_stream().
  using Producer = std::function<bool(std::string& out)>;

  // POSTs `sql` (e.g. "INSERT INTO db.t (a, b) FORMAT TabSeparated") in the URL and the
  // data with chunked transfer encoding, pulled from `producer` as curl needs it.
  // Rows are never skipped (input_format_allow_errors_* = 0).
  //
  // When the producer throws, the body is ended with `poison` (bytes that cannot be
  // parsed, e.g. a lone backslash for TSV) instead of being cut off: servers before ~20.x
  // (18.16 verified) commit a chunked body that just stops, but a parse error fails the
  // whole INSERT. The producer's exception then propagates unchanged. Blocks already
  // flushed (max_insert_block_size rows, default 1048576) stay committed either way.
  void insert_stream(std::string_view sql, const Producer& producer, std::string_view poison = "\\");

  // The URL without credentials, for messages.
  const std::string& endpoint() const { return endpoint_; }

 private:
  struct Exchange;
  void prepare(Exchange& x, const std::string& url);
  void perform(Exchange& x, std::string_view what);
  std::string make_url(std::string_view insert_sql,
                       const std::vector<std::pair<std::string_view, std::string_view>>& extra = {}) const;

  HttpOptions options_;
  std::string endpoint_;
  CURL* curl_ = nullptr;
};

}  // namespace ferry::clickhouse
