#include "connectors/clickhouse/tsv_answer.h"

namespace ferry::clickhouse {

void unescape_tsv_field(std::string_view field, std::string& out) {
  out.clear();
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c != '\\' || i + 1 == field.size()) {
      out.push_back(c);
      continue;
    }
    char e = field[++i];
    switch (e) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case '0': out.push_back('\0'); break;
      case 'a': out.push_back('\a'); break;
      case 'v': out.push_back('\v'); break;
      case 'e': out.push_back('\x1b'); break;
      default: out.push_back(e);  // \\ \' and anything else: the character itself
    }
  }
}

std::string unescape_tsv_field(std::string_view field) {
  std::string out;
  unescape_tsv_field(field, out);
  return out;
}

std::vector<std::string_view> split_tsv_line(std::string_view line) {
  std::vector<std::string_view> fields;
  for (size_t start = 0;;) {
    size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

std::vector<std::vector<std::string>> tsv_rows(std::string_view answer) {
  std::vector<std::vector<std::string>> rows;
  size_t pos = 0;
  while (pos < answer.size()) {
    size_t eol = answer.find('\n', pos);
    if (eol == std::string_view::npos) eol = answer.size();
    std::vector<std::string> row;
    for (std::string_view field : split_tsv_line(answer.substr(pos, eol - pos)))
      row.push_back(is_tsv_null(field) ? std::string(field) : unescape_tsv_field(field));
    rows.push_back(std::move(row));
    pos = eol + 1;
  }
  return rows;
}

std::string answer_value(std::string answer) {
  while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r' || answer.back() == ' ')) answer.pop_back();
  return answer;
}

}  // namespace ferry::clickhouse
