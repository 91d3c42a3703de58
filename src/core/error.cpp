#include "core/error.h"

namespace ferry {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Transient: return "transient";
    case ErrorKind::Permanent: return "permanent";
    case ErrorKind::Config: return "config";
    case ErrorKind::SourceLost: return "source-lost";
  }
  return "unknown";
}

}  // namespace ferry
