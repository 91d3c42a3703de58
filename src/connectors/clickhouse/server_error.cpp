#include "connectors/clickhouse/server_error.h"

#include <algorithm>

namespace ferry::clickhouse {

namespace {

constexpr size_t kMaxMessage = 2000;

void erase_all(std::string& s, std::string_view what) {
  for (size_t pos; (pos = s.find(what)) != std::string::npos;) s.erase(pos, what.size());
}

void trim(std::string& s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  size_t start = s.find_first_not_of(" \n\r\t");
  s.erase(0, start == std::string::npos ? s.size() : start);
}

}  // namespace

ServerException parse_server_exception(std::string_view body, std::string_view header_code) {
  ServerException e;
  for (char c : header_code) {
    if (c < '0' || c > '9') break;
    e.code = e.code * 10 + (c - '0');
  }
  size_t pos = body.find("Code: ");
  if (pos != std::string_view::npos) {
    if (e.code == 0) {
      for (size_t i = pos + 6; i < body.size() && body[i] >= '0' && body[i] <= '9' && i < pos + 12; ++i)
        e.code = e.code * 10 + (body[i] - '0');
    }
    body = body.substr(pos);
  }
  e.message = std::string(body.substr(0, kMaxMessage * 2));
  erase_all(e.message, ", e.what() = DB::Exception");
  erase_all(e.message, "e.displayText() = ");
  trim(e.message);
  if (e.message.size() > kMaxMessage) e.message = e.message.substr(0, kMaxMessage) + "...";
  return e;
}

ErrorKind classify_exception_code(int code) {
  static constexpr int kTransient[] = {
      159,   // TIMEOUT_EXCEEDED
      160,   // TOO_SLOW
      173,   // CANNOT_ALLOCATE_MEMORY
      198,   // DNS_ERROR
      201,   // QUOTA_EXPIRED (quota intervals reset)
      202,   // TOO_MANY_SIMULTANEOUS_QUERIES
      203,   // NO_FREE_CONNECTION
      209,   // SOCKET_TIMEOUT
      210,   // NETWORK_ERROR
      218,   // TABLE_IS_DROPPED
      225,   // NO_ZOOKEEPER
      236,   // ABORTED
      241,   // MEMORY_LIMIT_EXCEEDED
      242,   // TABLE_IS_READ_ONLY (replica lost ZooKeeper)
      243,   // NOT_ENOUGH_SPACE
      244,   // UNEXPECTED_ZOOKEEPER_ERROR
      252,   // TOO_MANY_PARTS
      279,   // ALL_CONNECTION_TRIES_FAILED
      285,   // TOO_FEW_LIVE_REPLICAS
      286,   // UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE
      319,   // UNKNOWN_STATUS_OF_INSERT
      394,   // QUERY_WAS_CANCELLED
      425,   // SYSTEM_ERROR
      439,   // CANNOT_SCHEDULE_TASK
      473,   // DEADLOCK_AVOIDED
      999,   // KEEPER_EXCEPTION
      1000,  // POCO_EXCEPTION (network inside the server)
  };
  return std::find(std::begin(kTransient), std::end(kTransient), code) != std::end(kTransient) ? ErrorKind::Transient
                                                                                               : ErrorKind::Permanent;
}

Error http_status_error(long status, std::string_view body, std::string_view header_code, std::string_view what) {
  ServerException e = parse_server_exception(body, header_code);
  if (e.code != 0) {
    return Error(classify_exception_code(e.code),
                 "ClickHouse error " + std::to_string(e.code) + " on " + std::string(what) + ": " + e.message);
  }
  // Not an answer from ClickHouse itself (proxy, load balancer, server starting up).
  ErrorKind kind = status >= 500 || status == 408 || status == 429 ? ErrorKind::Transient : ErrorKind::Permanent;
  std::string text = e.message.empty() ? "(empty answer)" : e.message;
  return Error(kind, "ClickHouse HTTP " + std::to_string(status) + " on " + std::string(what) + ": " + text);
}

}  // namespace ferry::clickhouse
