#include "core/ident.h"

namespace ferry {

namespace {
std::string quote_doubling(std::string_view s, char q) {
  std::string out;
  out.reserve(s.size() + 2);
  out += q;
  for (char c : s) {
    if (c == q) out += q;
    out += c;
  }
  out += q;
  return out;
}
std::string quote_backslashing(std::string_view s, char q) {
  std::string out;
  out.reserve(s.size() + 2);
  out += q;
  for (char c : s) {
    if (c == q || c == '\\') out += '\\';
    out += c;
  }
  out += q;
  return out;
}
}  // namespace

std::string quote_pg_ident(std::string_view name) { return quote_doubling(name, '"'); }
std::string quote_pg_literal(std::string_view value) { return quote_doubling(value, '\''); }
std::string quote_backtick_ident(std::string_view name) { return quote_backslashing(name, '`'); }
std::string quote_ch_literal(std::string_view value) { return quote_backslashing(value, '\''); }
std::string quote_mysql_ident(std::string_view name) { return quote_doubling(name, '`'); }

QualifiedName split_qualified(std::string_view text, std::string_view default_schema) {
  std::string parts[2];
  int idx = 0;
  bool in_quotes = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          parts[idx] += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        parts[idx] += c;
      }
    } else if (c == '"') {
      in_quotes = true;
    } else if (c == '.' && idx == 0) {
      idx = 1;
    } else {
      parts[idx] += c;
    }
  }
  if (idx == 0) return {std::string(default_schema), parts[0]};
  return {parts[0], parts[1]};
}

}  // namespace ferry
