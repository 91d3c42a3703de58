// Randomized robustness test of the pgoutput decoder and the replication message parser:
// mutates the captured fixtures (bit flips, byte and integer-field overwrites with boundary
// values, truncations, insertions, deletions, splices between messages, random type bytes,
// random buffers) and feeds the results to decode_pgoutput and parse_replication_message.
//
// Contract checked for every input: the only exception is ferry::Error(Permanent) with a
// "... at offset N" message, N within the input; a decoded message only refers to bytes inside
// the input, and re-encodes to exactly the input. Each input lives in a heap block of exactly
// its size, so that under -DFERRY_SANITIZE=ON any read past the end is an ASan error.
//
// Deterministic (fixed seed) and bounded (fixed iteration count, plus a time cap far above the
// normal run time that only guards slow machines). For longer campaigns:
//   FERRY_FUZZ_ITERATIONS=50000000 FERRY_FUZZ_SECONDS=600 FERRY_FUZZ_SEED=7
//     ferry_unit_tests --gtest_filter='PgOutputFuzz.*'
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "connectors/postgres/pgoutput.h"
#include "connectors/postgres/replication_protocol.h"
#include "core/error.h"

using namespace ferry;

namespace {

using Buf = std::vector<uint8_t>;

Buf from_hex(const std::string& hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  Buf out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  return out;
}

std::vector<Buf> load(const std::string& name) {
  std::ifstream in(std::string(FERRY_FIXTURES_DIR) + "/pgoutput/" + name);
  if (!in) throw std::runtime_error("missing fixture " + name);
  std::vector<Buf> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') out.push_back(from_hex(line));
  return out;
}

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// Exactly-sized heap copy: ASan reports any access past its end.
struct ExactBuffer {
  // (new uint8_t[0] is a valid pointer to no readable byte: ASan flags any read of it.)
  explicit ExactBuffer(const Buf& b) : size(b.size()), data(new uint8_t[b.size()]) {
    if (!b.empty()) std::memcpy(data.get(), b.data(), b.size());
  }
  std::span<const uint8_t> span() const { return {data.get(), size}; }
  size_t size;
  std::unique_ptr<uint8_t[]> data;
};

struct Stats {
  uint64_t inputs = 0;
  std::map<char, uint64_t> decoded;         // by message type
  std::map<std::string, uint64_t> errors;   // by error text with the numbers removed
  uint64_t repl_w = 0, repl_k = 0, repl_errors = 0;
};

std::string error_category(const std::string& what) {
  std::string out;
  for (char c : what) {
    if (c >= '0' && c <= '9') {
      if (out.empty() || out.back() != '#') out += '#';
    } else {
      out += c;
    }
  }
  return out;
}

bool inside(std::string_view v, std::span<const uint8_t> in) {
  if (v.empty()) return true;  // empty views may point anywhere (or nowhere)
  auto b = reinterpret_cast<uintptr_t>(in.data()), e = b + in.size();
  auto p = reinterpret_cast<uintptr_t>(v.data());
  return p >= b && p + v.size() <= e;
}

void check_error(const Error& e, const char* prefix, size_t input_size) {
  std::string what = e.what();
  ASSERT_EQ(e.kind(), ErrorKind::Permanent) << what;
  ASSERT_EQ(what.rfind(prefix, 0), 0u) << what;
  size_t at = what.rfind(" at offset ");
  ASSERT_NE(at, std::string::npos) << what;
  std::string n = what.substr(at + 11);
  ASSERT_FALSE(n.empty()) << what;
  ASSERT_EQ(n.find_first_not_of("0123456789"), std::string::npos) << what;
  ASSERT_LE(std::stoull(n), input_size) << what;
}

void check_views(const PgOutputMessage& m, std::span<const uint8_t> in) {
  auto tuple = [&](const pgoutput::TupleData& t) {
    ASSERT_LE(t.offset, in.size());
    for (const auto& v : t.values) {
      ASSERT_TRUE(inside(v.data, in));
      if (v.kind == pgoutput::ValueKind::Null || v.kind == pgoutput::ValueKind::UnchangedToast) {
        ASSERT_TRUE(v.data.empty());
      }
    }
  };
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, pgoutput::Origin>) {
          ASSERT_TRUE(inside(x.name, in));
        } else if constexpr (std::is_same_v<T, pgoutput::Relation>) {
          ASSERT_TRUE(inside(x.namespace_name, in));
          ASSERT_TRUE(inside(x.name, in));
          for (const auto& c : x.columns) ASSERT_TRUE(inside(c.name, in));
        } else if constexpr (std::is_same_v<T, pgoutput::Type>) {
          ASSERT_TRUE(inside(x.namespace_name, in));
          ASSERT_TRUE(inside(x.name, in));
        } else if constexpr (std::is_same_v<T, pgoutput::Insert>) {
          tuple(x.new_tuple);
        } else if constexpr (std::is_same_v<T, pgoutput::Update>) {
          ASSERT_EQ(x.old_tuple.has_value(), x.old_kind != pgoutput::OldTupleKind::None);
          if (x.old_tuple) tuple(*x.old_tuple);
          tuple(x.new_tuple);
        } else if constexpr (std::is_same_v<T, pgoutput::Delete>) {
          ASSERT_NE(x.old_kind, pgoutput::OldTupleKind::None);
          tuple(x.old_tuple);
        } else if constexpr (std::is_same_v<T, pgoutput::Message>) {
          ASSERT_TRUE(inside(x.prefix, in));
          ASSERT_TRUE(inside(x.content, in));
        }
      },
      m);
}

// Decodes one input; any exception other than ferry::Error escapes and fails the test.
void feed_pgoutput(std::span<const uint8_t> in, Stats& stats) {
  PgOutputMessage m;
  try {
    m = decode_pgoutput(in);
  } catch (const Error& e) {
    check_error(e, "pgoutput: ", in.size());
    ++stats.errors[error_category(e.what())];
    return;
  }
  ++stats.decoded[pgoutput_message_type(m)];
  check_views(m, in);
  ASSERT_EQ(static_cast<char>(in[0]), pgoutput_message_type(m));
  Buf again = encode_pgoutput(m);
  ASSERT_TRUE(std::equal(again.begin(), again.end(), in.begin(), in.end())) << "re-encoding differs";
}

void feed_replication(std::span<const uint8_t> in, Stats& stats) {
  ReplicationMessage r;
  try {
    r = parse_replication_message(in);
  } catch (const Error& e) {
    check_error(e, "replication protocol: ", in.size());
    ++stats.repl_errors;
    return;
  }
  if (auto* w = std::get_if<pgrepl::XLogData>(&r)) {
    ++stats.repl_w;
    ASSERT_EQ(in[0], 'w');
    ASSERT_EQ(w->data.data(), in.data() + 25);
    ASSERT_EQ(w->data.size(), in.size() - 25);
    feed_pgoutput(w->data, stats);
  } else {
    ++stats.repl_k;
    ASSERT_EQ(in[0], 'k');
    ASSERT_EQ(in.size(), 18u);
  }
}

class Mutator {
 public:
  Mutator(uint64_t seed, const std::vector<Buf>& corpus) : rng_(seed), corpus_(corpus) {}

  size_t below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  uint8_t byte() { return static_cast<uint8_t>(rng_()); }

  Buf next() {
    Buf b = corpus_[below(corpus_.size())];
    if (below(50) == 0) return random_buffer();
    int rounds = 1 + static_cast<int>(below(4));
    for (int i = 0; i < rounds; ++i) mutate(b);
    return b;
  }

 private:
  Buf random_buffer() {
    static const char kTypes[] = "BCORYIUDTMSEcAbPKrpwkZ";
    Buf b(below(64));
    for (auto& x : b) x = below(3) == 0 ? interesting_byte() : byte();
    if (!b.empty() && below(2) == 0) b[0] = static_cast<uint8_t>(kTypes[below(sizeof(kTypes) - 1)]);
    return b;
  }

  uint8_t interesting_byte() {
    static const uint8_t kBytes[] = {0, 1, 2, 0x7f, 0x80, 0xff, 'n', 'u', 't', 'b', 'K', 'O', 'N', 'd', 'f', 'i'};
    return kBytes[below(sizeof(kBytes))];
  }

  void put_be(Buf& b, size_t at, uint64_t v, size_t width) {
    for (size_t i = 0; i < width && at + i < b.size(); ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * (width - 1 - i)));
  }

  void mutate(Buf& b) {
    switch (below(11)) {
      case 0:  // flip a bit
        if (!b.empty()) b[below(b.size())] ^= static_cast<uint8_t>(1u << below(8));
        break;
      case 1:  // random byte
        if (!b.empty()) b[below(b.size())] = byte();
        break;
      case 2:  // interesting byte (kinds, tags, NUL, extremes)
        if (!b.empty()) b[below(b.size())] = interesting_byte();
        break;
      case 3: {  // overwrite a 2/4/8-byte big-endian field with a boundary or length-like value
        if (b.empty()) break;
        size_t at = below(b.size());
        size_t width = size_t{2} << below(3);
        size_t rest = b.size() - at;
        const uint64_t values[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
                                   0xffffffff, 0xfffffffe, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
                                   ~uint64_t{0}, rest, rest - 1, rest + 1, rest - width, rest - width + 1,
                                   rest - width - 1, static_cast<uint64_t>(rng_())};
        put_be(b, at, values[below(sizeof(values) / sizeof(values[0]))], width);
        break;
      }
      case 4:  // truncate
        b.resize(below(b.size() + 1));
        break;
      case 5: {  // insert random bytes
        size_t at = below(b.size() + 1), n = 1 + below(8);
        Buf ins(n);
        for (auto& x : ins) x = below(2) ? byte() : interesting_byte();
        b.insert(b.begin() + static_cast<long>(at), ins.begin(), ins.end());
        break;
      }
      case 6: {  // delete a range
        if (b.empty()) break;
        size_t at = below(b.size()), n = 1 + below(std::min<size_t>(16, b.size() - at));
        b.erase(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + n));
        break;
      }
      case 7: {  // duplicate a range in place
        if (b.empty()) break;
        size_t at = below(b.size()), n = 1 + below(std::min<size_t>(32, b.size() - at));
        Buf piece(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + n));
        size_t to = below(b.size() + 1);
        b.insert(b.begin() + static_cast<long>(to), piece.begin(), piece.end());
        break;
      }
      case 8: {  // splice: our prefix + another message's suffix
        const Buf& other = corpus_[below(corpus_.size())];
        size_t cut = below(b.size() + 1), from = below(other.size() + 1);
        b.resize(cut);
        b.insert(b.end(), other.begin() + static_cast<long>(from), other.end());
        break;
      }
      case 9: {  // another message type byte
        static const char kTypes[] = "BCORYIUDTMSEcAbPKrpwk";
        if (!b.empty()) b[0] = static_cast<uint8_t>(kTypes[below(sizeof(kTypes) - 1)]);
        break;
      }
      case 10: {  // append
        size_t n = 1 + below(8);
        for (size_t i = 0; i < n; ++i) b.push_back(below(2) ? byte() : interesting_byte());
        break;
      }
    }
  }

  std::mt19937_64 rng_;
  const std::vector<Buf>& corpus_;
};

const char* kFixtures[] = {"insert_default_identity.hex", "toast_update.hex", "replica_full.hex",
                           "key_update_delete.hex",       "truncate.hex",     "message.hex",
                           "origin.hex",                  "binary.hex",       "stream_v2.hex"};

}  // namespace

TEST(PgOutputFuzz, MutatedFixturesOnlyThrowFerryErrors) {
  std::vector<Buf> pgoutput_corpus, copydata_corpus;
  for (const char* name : kFixtures)
    for (auto& b : load(name)) pgoutput_corpus.push_back(std::move(b));
  for (auto& b : load("copydata.hex")) {
    if (!b.empty() && b[0] == 'w') pgoutput_corpus.emplace_back(b.begin() + 25, b.end());
    copydata_corpus.push_back(std::move(b));
  }
  ASSERT_GE(pgoutput_corpus.size(), 100u);

  const uint64_t seed = env_u64("FERRY_FUZZ_SEED", 20240229);
  const uint64_t iterations = env_u64("FERRY_FUZZ_ITERATIONS", 600'000);
  const auto budget = std::chrono::seconds(env_u64("FERRY_FUZZ_SECONDS", 8));
  const auto start = std::chrono::steady_clock::now();

  Mutator pg_mutator(seed, pgoutput_corpus);
  Mutator repl_mutator(seed ^ 0x9e3779b97f4a7c15ULL, copydata_corpus);
  Stats stats;
  uint64_t i = 0;
  for (; i < iterations; ++i) {
    if ((i & 1023) == 0 && std::chrono::steady_clock::now() - start > budget) break;
    bool repl = (i % 4) == 3;
    Buf input = repl ? repl_mutator.next() : pg_mutator.next();
    ExactBuffer exact(input);
    ++stats.inputs;
    if (repl) {
      ASSERT_NO_FATAL_FAILURE(feed_replication(exact.span(), stats)) << "seed " << seed << " iteration " << i;
    } else {
      ASSERT_NO_FATAL_FAILURE(feed_pgoutput(exact.span(), stats)) << "seed " << seed << " iteration " << i;
      // also as the payload of an XLogData
      if ((i & 7) == 0) {
        Buf w{'w'};
        w.resize(25, 0);
        w.insert(w.end(), input.begin(), input.end());
        ExactBuffer wrapped(w);
        ASSERT_NO_FATAL_FAILURE(feed_replication(wrapped.span(), stats)) << "seed " << seed << " iteration " << i;
      }
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::cout << "pgoutput fuzz: seed " << seed << ", " << i << " iterations (" << stats.inputs << " inputs) in " << secs
            << " s" << (i < iterations ? " [stopped by the time cap]" : "") << "\n  decoded:";
  for (auto& [t, n] : stats.decoded) std::cout << " " << t << "=" << n;
  std::cout << "\n  replication: w=" << stats.repl_w << " k=" << stats.repl_k << " errors=" << stats.repl_errors
            << "\n  " << stats.errors.size() << " distinct pgoutput errors, most frequent:\n";
  std::vector<std::pair<uint64_t, std::string>> by_count;
  for (auto& [what, n] : stats.errors) by_count.emplace_back(n, what);
  std::sort(by_count.rbegin(), by_count.rend());
  for (size_t k = 0; k < by_count.size() && k < 12; ++k)
    std::cout << "    " << by_count[k].first << "  " << by_count[k].second << "\n";

  // The mutations must reach both outcomes everywhere, or the test proves little.
  for (char t : std::string("BCORYIUDTM")) EXPECT_GT(stats.decoded[t], 0u) << "no valid " << t << " message survived";
  EXPECT_GT(stats.errors.size(), 40u);
  EXPECT_GT(stats.repl_w, 0u);
  EXPECT_GT(stats.repl_k, 0u);
  EXPECT_GT(stats.repl_errors, 0u);
}

TEST(PgOutputFuzz, LsnTextOnlyThrowsFerryErrors) {
  std::mt19937_64 rng(env_u64("FERRY_FUZZ_SEED", 20240229));
  const char kChars[] = "0123456789abcdefABCDEFgG/ -+x\0";
  int parsed = 0;
  for (int i = 0; i < 100'000; ++i) {
    std::string s(rng() % 20, ' ');
    for (char& c : s) c = kChars[rng() % (sizeof(kChars) - 1)];
    try {
      uint64_t v = parse_lsn(s);
      ASSERT_EQ(parse_lsn(format_lsn(v)), v) << s;
      ++parsed;
    } catch (const Error& e) {
      ASSERT_EQ(e.kind(), ErrorKind::Permanent);
    }
  }
  EXPECT_GT(parsed, 100);
}
