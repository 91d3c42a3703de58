#include "connectors/api/copy_stream.h"

namespace ferry {

void append_copy_escaped(std::string& out, std::string_view v) {
  size_t start = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    char e = 0;
    switch (v[i]) {
      case '\\': e = '\\'; break;
      case '\t': e = 't'; break;
      case '\n': e = 'n'; break;
      case '\r': e = 'r'; break;
      default: continue;
    }
    out.append(v.data() + start, i - start);
    out += '\\';
    out += e;
    start = i + 1;
  }
  out.append(v.data() + start, v.size() - start);
}

char decode_copy_escape(std::string_view raw, size_t& i) {
  ++i;  // the backslash
  if (i >= raw.size()) return '\\';
  char n = raw[i++];
  switch (n) {
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'v':
      return '\v';
    case 'x': {
      int v = 0, digits = 0;
      while (digits < 2 && i < raw.size() && hex_value(raw[i]) >= 0) v = v * 16 + hex_value(raw[i++]), ++digits;
      return digits ? static_cast<char>(v) : 'x';
    }
    default:
      if (is_octal(n)) {
        int v = n - '0', digits = 1;
        while (digits < 3 && i < raw.size() && is_octal(raw[i])) v = v * 8 + (raw[i++] - '0'), ++digits;
        return static_cast<char>(v & 0xFF);
      }
      return n;
  }
}

void unescape_copy_field(std::string_view raw, std::string& out) {
  out.clear();
  size_t i = 0;
  while (i < raw.size()) {
    if (raw[i] != '\\') {
      out.push_back(raw[i++]);
    } else {
      out.push_back(decode_copy_escape(raw, i));
    }
  }
}

}  // namespace ferry
