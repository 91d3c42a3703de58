#include "connectors/mysql/mysql_stream_control.h"

#include <charconv>

#include <fmt/format.h>

#include "core/error.h"

namespace ferry::mysql {

std::string binlog_status_statement(std::string_view version) {
  if (version.find("MariaDB") != std::string_view::npos) return "SHOW MASTER STATUS";
  int major = 0, minor = 0;
  const char* p = version.data();
  const char* end = version.data() + version.size();
  auto r = std::from_chars(p, end, major);
  if (r.ec == std::errc() && r.ptr < end && *r.ptr == '.') std::from_chars(r.ptr + 1, end, minor);
  return major > 8 || (major == 8 && minor >= 2) ? "SHOW BINARY LOG STATUS" : "SHOW MASTER STATUS";
}

int64_t binlog_bytes_after(const std::vector<BinlogFile>& files, const BinlogPosition& from) {
  const uint32_t index = from.file_index();
  int64_t total = 0;
  for (const auto& f : files) {
    BinlogPosition p{f.name, 0};
    uint32_t i = p.file_index();
    if (i > index) total += int64_t(f.size);
    else if (i == index && f.size > from.offset) total += int64_t(f.size - from.offset);
  }
  return total;
}

std::string binlog_base_name(std::string_view file) {
  BinlogPosition{std::string(file), 0}.file_index();  // validates
  return std::string(file.substr(0, file.rfind('.')));
}

BinlogPosition binlog_position_of(uint64_t version, std::string_view base) {
  return {fmt::format("{}.{:06}", base, version >> 32), version & 0xffffffffu};
}

uint32_t replica_server_id(std::string_view pipe, uint32_t own_id) {
  for (uint32_t salt = 0;; ++salt) {
    uint32_t h = 2166136261u;  // FNV-1a over "ferry:<pipe>" (and a salt after a clash)
    auto mix = [&](std::string_view s) {
      for (unsigned char c : s) h = (h ^ c) * 16777619u;
    };
    mix("ferry:");
    mix(pipe);
    if (salt) mix(fmt::format("#{}", salt));
    if (h != 0 && h != own_id) return h;
  }
}

MysqlStreamControl::MysqlStreamControl(const MysqlEndpoint& endpoint) : admin_(endpoint) {}

BinlogPosition MysqlStreamControl::current_position() {
  auto version = admin_.rows("SELECT VERSION()");
  std::string statement = binlog_status_statement(version.at(0).at(0).value_or(""));
  auto rows = admin_.rows(statement);
  if (rows.empty() || rows[0].size() < 2 || !rows[0][0] || !rows[0][1])
    throw Error(ErrorKind::Permanent, fmt::format("MariaDB at {}: {} reports no binlog: binary logging is off (set "
                                                  "log_bin, binlog_format=ROW) so changes cannot be streamed",
                                                  admin_.where(), statement));
  BinlogPosition p{*rows[0][0], std::stoull(*rows[0][1])};
  if (base_.empty()) base_ = binlog_base_name(p.file);
  return p;
}

std::vector<BinlogFile> MysqlStreamControl::binary_logs() {
  std::vector<BinlogFile> out;
  for (const auto& r : admin_.rows("SHOW BINARY LOGS"))
    if (r.size() >= 2 && r[0] && r[1]) out.push_back({*r[0], std::stoull(*r[1])});
  return out;
}

bool MysqlStreamControl::can_stream_from(const BinlogPosition& position) {
  for (const auto& f : binary_logs())
    if (f.name == position.file) return position.offset <= f.size;
  return false;
}

int64_t MysqlStreamControl::lag_bytes(uint64_t version) { return binlog_bytes_after(binary_logs(), position_of(version)); }

uint32_t MysqlStreamControl::server_id(const std::string& pipe) {
  auto rows = admin_.rows("SELECT @@server_id");
  uint32_t own = static_cast<uint32_t>(std::stoul(rows.at(0).at(0).value_or("0")));
  return replica_server_id(pipe, own);
}

const std::string& MysqlStreamControl::base_name() {
  if (base_.empty()) current_position();
  return base_;
}

std::string MysqlStreamControl::format_position(uint64_t version) {
  return binlog_position_of(version, base_name()).to_string();
}

uint64_t MysqlStreamControl::parse_position(const std::string& text) {
  BinlogPosition p = BinlogPosition::parse(text);
  base_ = binlog_base_name(p.file);
  return p.version();
}

BinlogPosition MysqlStreamControl::position_of(uint64_t version) { return binlog_position_of(version, base_name()); }

}  // namespace ferry::mysql
