#include "connectors/api/table_digest.h"

#include <stdexcept>

#include "core/error.h"

namespace ferry {

std::vector<DigestColumn> digest_key_columns(const DigestPlan& plan) {
  std::vector<DigestColumn> out;
  for (const auto& k : plan.key) {
    DigestColumn d{k, DigestForm::Text};
    for (const auto& c : plan.columns)
      if (c.name == k) d = c;
    out.push_back(d);
  }
  return out;
}

uint64_t parse_digest_number(const std::optional<std::string>& text, const char* what, const char* server) {
  if (text) {
    try {
      size_t used = 0;
      uint64_t v = std::stoull(*text, &used);
      if (used == text->size() && !text->empty() && (*text)[0] != '-') return v;
    } catch (const std::exception&) {
    }
  }
  throw Error(ErrorKind::Permanent, std::string("unexpected ") + what + " from " + server + ": '" +
                                        text.value_or("NULL").substr(0, 60) + "'");
}

}  // namespace ferry
