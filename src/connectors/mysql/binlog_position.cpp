#include "connectors/mysql/binlog_position.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "core/error.h"

namespace ferry::mysql {

namespace {

template <typename T>
bool parse_number(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

uint32_t BinlogPosition::file_index() const {
  size_t dot = file.rfind('.');
  uint32_t index = 0;
  if (dot == std::string::npos || !parse_number(std::string_view(file).substr(dot + 1), index))
    throw Error(ErrorKind::Permanent, fmt::format("binlog file name '{}' has no numeric suffix", file));
  return index;
}

uint64_t BinlogPosition::version() const {
  if (offset > UINT32_MAX)
    throw Error(ErrorKind::Permanent, fmt::format("binlog offset {} in {} does not fit 32 bits", offset, file));
  return (uint64_t(file_index()) << 32) | offset;
}

std::string BinlogPosition::to_string() const { return fmt::format("{}:{}", file, offset); }

BinlogPosition BinlogPosition::parse(std::string_view text) {
  size_t colon = text.rfind(':');
  BinlogPosition p;
  if (colon == std::string_view::npos || colon == 0 || !parse_number(text.substr(colon + 1), p.offset))
    throw Error(ErrorKind::Permanent, fmt::format("'{}' is not a binlog position (expected FILE:OFFSET, like "
                                                  "binlog.000042:1234)", text));
  p.file = std::string(text.substr(0, colon));
  p.file_index();  // validates the name
  return p;
}

std::strong_ordering BinlogPosition::operator<=>(const BinlogPosition& o) const {
  if (auto c = file_index() <=> o.file_index(); c != 0) return c;
  return offset <=> o.offset;
}

void GtidState::update(const Gtid& g) {
  auto it = std::lower_bound(gtids.begin(), gtids.end(), g.domain,
                             [](const Gtid& x, uint32_t d) { return x.domain < d; });
  if (it != gtids.end() && it->domain == g.domain) *it = g;
  else gtids.insert(it, g);
}

std::string GtidState::to_string() const {
  std::string out;
  for (const auto& g : gtids) out += fmt::format("{}{}-{}-{}", out.empty() ? "" : ",", g.domain, g.server_id, g.sequence);
  return out;
}

GtidState GtidState::parse(std::string_view text) {
  GtidState s;
  auto bad = [&] {
    return Error(ErrorKind::Permanent,
                 fmt::format("'{}' is not a MariaDB GTID list (expected domain-server-sequence[,...], like 0-1-42)", text));
  };
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    std::string_view one = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    size_t d1 = one.find('-'), d2 = d1 == std::string_view::npos ? d1 : one.find('-', d1 + 1);
    Gtid g;
    if (d2 == std::string_view::npos || !parse_number(one.substr(0, d1), g.domain) ||
        !parse_number(one.substr(d1 + 1, d2 - d1 - 1), g.server_id) || !parse_number(one.substr(d2 + 1), g.sequence))
      throw bad();
    for (const auto& x : s.gtids)
      if (x.domain == g.domain) throw bad();
    s.update(g);
    if (end == std::string_view::npos) break;
    start = end + 1;
    if (start == text.size()) throw bad();
  }
  return s;
}

}  // namespace ferry::mysql
