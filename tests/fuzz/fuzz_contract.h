// What every ferry libFuzzer target checks besides the sanitizers: a decoder given bad
// bytes throws ferry::Error(Permanent) and nothing else (any other exception escapes the
// target, which libFuzzer reports as a crash).
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace ferry::fuzz {

[[noreturn]] inline void violated(const char* what, const std::string& detail = "") {
  fprintf(stderr, "contract violated: %s %s\n", what, detail.c_str());
  abort();
}

// `prefix`: the component prefix the message must start with ("" for none).
inline void check_permanent(const Error& e, const char* prefix = "") {
  std::string what = e.what();
  if (e.kind() != ErrorKind::Permanent) violated("error kind", what);
  if (what.rfind(prefix, 0) != 0) violated("error prefix", what);
}

}  // namespace ferry::fuzz
