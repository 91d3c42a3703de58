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

}  // namespace ferry
