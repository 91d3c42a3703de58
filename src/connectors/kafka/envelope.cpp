#include "connectors/kafka/envelope.h"

namespace ferry::kafka {

void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the bytes copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

namespace {

void append_cell(std::string& out, const RowCells& row, uint32_t i) {
  const Cell& c = row.cells[i];
  if (c.state == CellState::Value) append_json_string(out, row.arena.substr(c.offset, c.size));
  else out += "null";
}

void append_row(std::string& out, const RowCells* row) {
  if (!row) {
    out += "null";
    return;
  }
  out += '{';
  bool first = true;
  for (uint32_t i = 0; i < row->columns->size(); ++i) {
    CellState st = row->cells[i].state;
    if (st == CellState::Unchanged || st == CellState::Absent) continue;  // not sent: left out
    if (!first) out += ',';
    first = false;
    append_json_string(out, (*row->columns)[i]);
    out += ':';
    append_cell(out, *row, i);
  }
  out += '}';
}

}  // namespace

void encode_key(std::string& out, const RowCells& row, const std::vector<uint32_t>& key) {
  out += '{';
  for (size_t k = 0; k < key.size(); ++k) {
    if (k) out += ',';
    append_json_string(out, (*row.columns)[key[k]]);
    out += ':';
    append_cell(out, row, key[k]);
  }
  out += '}';
}

void encode_envelope(std::string& out, char op, const RowCells* before, const RowCells* after,
                     const EnvelopeSource& source, int64_t ts_ms) {
  out += "{\"before\":";
  append_row(out, before);
  out += ",\"after\":";
  append_row(out, after);
  out += ",\"op\":\"";
  out += op;
  out += "\",\"source\":{\"table\":";
  append_json_string(out, source.table);
  out += ",\"position\":\"";
  out += std::to_string(source.position);
  out += "\",\"commit_time_ms\":";
  out += source.commit_time_ms ? std::to_string(source.commit_time_ms) : "null";
  out += ",\"snapshot\":";
  out += source.snapshot ? "true" : "false";
  out += "},\"ts_ms\":";
  out += std::to_string(ts_ms);
  out += '}';
}

std::optional<uint64_t> envelope_position(std::string_view value) {
  constexpr std::string_view member = "\"position\":\"";
  size_t at = value.rfind(member);
  if (at == std::string_view::npos) return std::nullopt;
  size_t start = at + member.size(), end = start;
  uint64_t n = 0;
  while (end < value.size() && value[end] >= '0' && value[end] <= '9' && end - start < 20) n = n * 10 + (value[end++] - '0');
  if (end == start || end >= value.size() || value[end] != '"') return std::nullopt;
  return n;
}

}  // namespace ferry::kafka
