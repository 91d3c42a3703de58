// ClickHouse error answers -> ferry::Error (pure).
#pragma once
#include <string>
#include <string_view>

#include "core/error.h"

namespace ferry::clickhouse {

struct ServerException {
  int code = 0;         // ClickHouse error code; 0 when the text is not a ClickHouse exception
  std::string message;  // cleaned of the old "e.displayText() = ... e.what()" noise, truncated
};

// Understands the 18.x .. 21.x form "Code: 60, e.displayText() = DB::Exception: ...,
// e.what() = DB::Exception" and the newer "Code: 60. DB::Exception: ... (UNKNOWN_TABLE)
// (version 23.8.2.7)". `header_code` is X-ClickHouse-Exception-Code when the server sent it.
ServerException parse_server_exception(std::string_view body, std::string_view header_code = {});

// Transient for codes a retry can cure (timeouts, memory limit, too many parts,
// too many queries, network, replicas/keeper, read-only replica), Permanent otherwise
// (syntax, unknown table/column/type, parse errors, access).
ErrorKind classify_exception_code(int code);

// The error for an HTTP answer other than 200. `what` says what was being done
// ("query ...", "insert into ..."); the password never reaches here.
Error http_status_error(long status, std::string_view body, std::string_view header_code, std::string_view what);

}  // namespace ferry::clickhouse
