// libFuzzer target for the pgoutput decoder and the streaming replication message parser.
// Needs clang's -fsanitize=fuzzer, so it is built only on request:
//
//   scripts/fuzz pgoutput_fuzz      (corpus: tests/fuzz/corpus/pgoutput_fuzz)
//
// Contract checked (a violation aborts, which libFuzzer reports as a crash): the only exception
// is ferry::Error(Permanent) whose message starts with the component prefix and ends with
// " at offset N", N <= input size; a decoded message refers only to bytes of the input and
// re-encodes to exactly the input; an XLogData's payload is the input after its 25-byte header.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "connectors/postgres/pgoutput.h"
#include "connectors/postgres/replication_protocol.h"
#include "core/error.h"
#include "fuzz_contract.h"

using namespace ferry;

namespace {

using fuzz::violated;

void check_error(const Error& e, const char* prefix, size_t size) {
  fuzz::check_permanent(e, prefix);
  std::string what = e.what();
  size_t at = what.rfind(" at offset ");
  if (at == std::string::npos) violated("no offset", what);
  std::string n = what.substr(at + 11);
  if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) violated("bad offset", what);
  if (std::stoull(n) > size) violated("offset past the end", what);
}

bool inside(std::string_view v, std::span<const uint8_t> in) {
  if (v.empty()) return true;
  auto b = reinterpret_cast<uintptr_t>(in.data()), p = reinterpret_cast<uintptr_t>(v.data());
  return p >= b && p + v.size() <= b + in.size();
}

void check_tuple(const pgoutput::TupleData& t, std::span<const uint8_t> in) {
  for (const auto& v : t.values)
    if (!inside(v.data, in)) violated("tuple value outside the input");
}

void decode(std::span<const uint8_t> in) {
  PgOutputMessage m;
  try {
    m = decode_pgoutput(in);
  } catch (const Error& e) {
    check_error(e, "pgoutput: ", in.size());
    return;
  }
  if (pgoutput_message_type(m) != static_cast<char>(in[0])) violated("message type");
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, pgoutput::Relation>) {
          if (!inside(x.namespace_name, in) || !inside(x.name, in)) violated("relation name outside the input");
          for (const auto& c : x.columns)
            if (!inside(c.name, in)) violated("column name outside the input");
        } else if constexpr (std::is_same_v<T, pgoutput::Insert>) {
          check_tuple(x.new_tuple, in);
        } else if constexpr (std::is_same_v<T, pgoutput::Update>) {
          if (x.old_tuple) check_tuple(*x.old_tuple, in);
          check_tuple(x.new_tuple, in);
        } else if constexpr (std::is_same_v<T, pgoutput::Delete>) {
          check_tuple(x.old_tuple, in);
        } else if constexpr (std::is_same_v<T, pgoutput::Message>) {
          if (!inside(x.prefix, in) || !inside(x.content, in)) violated("message outside the input");
        }
      },
      m);
  std::vector<uint8_t> again = encode_pgoutput(m);
  if (again.size() != in.size() || !std::equal(again.begin(), again.end(), in.begin())) violated("re-encoding differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  decode(in);
  try {
    ReplicationMessage r = parse_replication_message(in);
    if (auto* w = std::get_if<pgrepl::XLogData>(&r)) {
      if (w->data.data() != data + 25 || w->data.size() != size - 25) violated("XLogData payload");
      decode(w->data);
    } else if (size != 18) {
      violated("keepalive size");
    }
  } catch (const Error& e) {
    check_error(e, "replication protocol: ", size);
  }
  return 0;
}
