// ferry compare: objects, counts, then bucket digests narrowed down to keys (compare.h).
#include "pipe/compare.h"

#include <algorithm>
#include <future>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "connectors/api/destination.h"
#include "connectors/api/source.h"
#include "core/error.h"
#include "core/spec.h"
#include "pipe/runner.h"

namespace ferry {

CompareLevel parse_compare_level(const std::string& text) {
  if (text == "objects") return CompareLevel::Objects;
  if (text == "count") return CompareLevel::Count;
  if (text == "content") return CompareLevel::Content;
  throw Error(ErrorKind::Config, "compare level '" + text + "' is not one of objects, count, content");
}

const char* to_string(CompareLevel level) {
  switch (level) {
    case CompareLevel::Objects: return "objects";
    case CompareLevel::Count: return "count";
    case CompareLevel::Content: break;
  }
  return "content";
}

std::vector<uint64_t> differing_buckets(const std::vector<BucketDigest>& source,
                                        const std::vector<BucketDigest>& destination) {
  std::map<uint64_t, std::pair<const BucketDigest*, const BucketDigest*>> by_bucket;
  for (const auto& b : source) by_bucket[b.bucket].first = &b;
  for (const auto& b : destination) by_bucket[b.bucket].second = &b;
  std::vector<uint64_t> out;
  for (const auto& [bucket, ends] : by_bucket)
    if (!ends.first || !ends.second || !(*ends.first == *ends.second)) out.push_back(bucket);
  return out;
}

namespace {

std::string key_text(const std::vector<std::string>& names, const KeyDigest& k) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < k.key.size(); ++i)
    out += fmt::format("{}{}={}", i ? ", " : "", names[i], k.key[i] ? *k.key[i] : "NULL");
  return out;
}

std::map<std::string, uint64_t> by_key(const std::vector<std::string>& names, const std::vector<KeyDigest>& rows) {
  std::map<std::string, uint64_t> out;
  for (const auto& r : rows) out[key_text(names, r)] = r.row_hash;
  return out;
}

}  // namespace

std::vector<KeyDifference> key_differences(const std::vector<std::string>& key_names,
                                           const std::vector<KeyDigest>& source,
                                           const std::vector<KeyDigest>& destination) {
  std::map<std::string, uint64_t> s = by_key(key_names, source), d = by_key(key_names, destination);
  std::vector<KeyDifference> out;
  for (const auto& [key, hash] : s) {
    auto it = d.find(key);
    if (it == d.end()) out.push_back({"missing", key});
    else if (it->second != hash) out.push_back({"changed", key});
  }
  for (const auto& [key, hash] : d)
    if (!s.count(key)) out.push_back({"extra", key});
  std::sort(out.begin(), out.end(), [](const KeyDifference& a, const KeyDifference& b) { return a.key < b.key; });
  return out;
}

namespace {

// Runs both ends' queries at once (each digester stays on one thread): a comparison takes
// as long as the slower database, not the sum of both.
template <class AtSource, class AtDestination>
auto at_both_ends(AtSource&& at_source, AtDestination&& at_destination) {
  auto destination = std::async(std::launch::async, std::forward<AtDestination>(at_destination));
  auto source = at_source();
  return std::make_pair(std::move(source), destination.get());
}

// The columns both ends hash the same way; the others go to not_compared.
DigestPlan digest_plan(const TableSchema& source, TableDigester& s, TableDigester& d, TableComparison& result) {
  DigestPlan plan;
  plan.key = source.key_columns();
  for (const auto& c : source.columns) {
    std::optional<DigestForm> fs = s.form(c), fd = d.form(c);
    if (fs && fd && *fs == *fd) {
      plan.columns.push_back({c.name, *fs});
    } else {
      result.not_compared.push_back(fmt::format("column {} ({}: {} cannot hash it)", c.name, c.source_type.empty() ? to_string(c.type) : c.source_type,
                                                !fs ? "the source" : "the destination"));
    }
  }
  return plan;
}

struct BucketPair {
  std::optional<BucketDigest> source, destination;
  bool operator==(const BucketPair&) const = default;
};

std::map<uint64_t, BucketPair> pairs_of(const std::vector<BucketDigest>& s, const std::vector<BucketDigest>& d,
                                        const std::set<uint64_t>& wanted) {
  std::map<uint64_t, BucketPair> out;
  for (uint64_t b : wanted) out[b];
  for (const auto& x : s)
    if (wanted.count(x.bucket)) out[x.bucket].source = x;
  for (const auto& x : d)
    if (wanted.count(x.bucket)) out[x.bucket].destination = x;
  return out;
}

void compare_content(const TableSchema& source, TableDigester& s, TableDigester& d, const CompareOptions& options,
                     TableComparison& result) {
  std::vector<std::string> key = source.key_columns();
  if (key.empty()) {
    result.not_compared.push_back("content (the table has no primary key)");
    return;
  }
  DigestPlan plan = digest_plan(source, s, d, result);
  for (const auto& k : key) {
    bool hashed = std::any_of(plan.columns.begin(), plan.columns.end(), [&](const DigestColumn& c) { return c.name == k; });
    if (!hashed) {
      result.not_compared.push_back("content (key column " + k + " cannot be hashed at both ends)");
      return;
    }
  }
  int64_t rows = std::max<int64_t>({result.source_rows, result.destination_rows, 1});
  plan.buckets = static_cast<uint64_t>((rows + options.rows_per_bucket - 1) / std::max<int64_t>(1, options.rows_per_bucket));
  result.buckets = plan.buckets;

  std::set<uint64_t> candidates;
  std::map<uint64_t, BucketPair> previous;
  std::set<uint64_t> moved;
  for (int round = 1; round <= std::max(1, options.rounds); ++round) {
    if (round > 1) std::this_thread::sleep_for(options.settle);
    auto [sb, db] = at_both_ends([&] { return s.buckets(plan); }, [&] { return d.buckets(plan); });
    std::vector<uint64_t> diff = differing_buckets(sb, db);
    std::set<uint64_t> now(diff.begin(), diff.end());
    if (round > 1) {
      std::set<uint64_t> still;
      for (uint64_t b : candidates)
        if (now.count(b)) still.insert(b);
      now = std::move(still);
    }
    std::map<uint64_t, BucketPair> current = pairs_of(sb, db, now);
    moved.clear();
    if (round > 1)
      for (const auto& [b, pair] : current)
        if (previous.count(b) && !(previous[b] == pair)) moved.insert(b);
    candidates = std::move(now);
    previous = std::move(current);
    if (candidates.empty()) break;
  }
  std::vector<uint64_t> real;
  for (uint64_t b : candidates)
    if (!moved.count(b)) real.push_back(b);
  result.differing_buckets = real.size();
  result.still_changing_buckets = moved.size();
  for (uint64_t b : real) {
    if (result.differences.size() >= options.key_limit) {
      result.differences_truncated = true;
      break;
    }
    auto [source_keys, destination_keys] = at_both_ends([&] { return s.keys(plan, b, options.bucket_key_limit); },
                                                        [&] { return d.keys(plan, b, options.bucket_key_limit); });
    for (auto& k : key_differences(key, source_keys, destination_keys)) {
      if (result.differences.size() >= options.key_limit) {
        result.differences_truncated = true;
        break;
      }
      result.differences.push_back(std::move(k));
    }
  }
  std::sort(result.differences.begin(), result.differences.end(),
            [](const KeyDifference& a, const KeyDifference& b) { return a.key < b.key; });
  if (!real.empty()) result.outcome = "different";
  else if (!moved.empty()) result.outcome = "still changing";
  else result.outcome = "equal";
}

}  // namespace

TableComparison compare_table(const TableSchema& source, const std::string& destination_table,
                              TableDigester& source_digester, TableDigester& destination_digester,
                              const CompareOptions& options) {
  auto start = std::chrono::steady_clock::now();
  TableComparison result;
  result.source_table = source.display_name();
  result.destination_table = destination_table;
  auto done = [&] {
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  };

  std::vector<std::string> at_source = source_digester.columns(), at_destination = destination_digester.columns();
  if (at_source.empty()) result.problems.push_back("the source table does not exist");
  if (at_destination.empty()) result.problems.push_back("the destination table does not exist");
  if (!result.problems.empty()) {
    result.outcome = "missing";
    return done();
  }
  std::set<std::string> have(at_destination.begin(), at_destination.end());
  for (const auto& c : source.columns)
    if (!have.count(c.name)) result.problems.push_back("column " + c.name + " is missing at the destination");
  if (!result.problems.empty()) result.outcome = "different";
  if (options.level == CompareLevel::Objects || !result.problems.empty()) return done();

  std::tie(result.source_rows, result.destination_rows) =
      at_both_ends([&] { return source_digester.count(); }, [&] { return destination_digester.count(); });
  if (options.level == CompareLevel::Count) {
    result.outcome = result.source_rows == result.destination_rows ? "equal" : "different";
    return done();
  }
  compare_content(source, source_digester, destination_digester, options, result);
  return done();
}

CompareOptions compare_options_for(const PipeSpec& pipe, CompareLevel level) {
  CompareOptions o;
  o.level = level;
  if (mode_streams(pipe.mode)) {
    o.rounds = 3;
    o.settle = std::max(std::chrono::milliseconds(2000), std::chrono::duration_cast<std::chrono::milliseconds>(2 * pipe.settings.sync_interval));
  }
  return o;
}

std::vector<TableComparison> compare_pipe(const PipeSpec& pipe, const PeerSpec& source_peer,
                                          const PeerSpec& destination_peer, const CompareOptions& options,
                                          const std::string& table) {
  std::unique_ptr<Source> source = make_source(source_peer);
  std::unique_ptr<Destination> destination = make_destination(destination_peer);
  std::vector<TableComparison> out;
  for (const auto& m : pipe.tables) {
    std::string name = destination_table_name(m);
    if (!table.empty() && table != m.source && table != name) continue;
    TableSchema projected = project_table(source->describe(m.source), m);
    std::unique_ptr<TableDigester> s, d;
    try {
      s = source->digester(projected);
      d = destination->digester(projected, destination_table(pipe, m));
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Config) throw;
      throw Error(ErrorKind::Config, fmt::format("pipe {}: {} -> {}: {}", pipe.name, to_string(source_peer.type),
                                                 to_string(destination_peer.type), e.what()));
    }
    out.push_back(compare_table(projected, name, *s, *d, options));
    out.back().table = m.source;
  }
  if (out.empty() && !table.empty())
    throw Error(ErrorKind::Config, fmt::format("pipe {} has no table named '{}'", pipe.name, table));
  return out;
}

nlohmann::json to_json(const TableComparison& c) {
  nlohmann::json j = {{"source_table", c.source_table},
                      {"destination_table", c.destination_table},
                      {"outcome", c.outcome},
                      {"problems", c.problems},
                      {"not_compared", c.not_compared},
                      {"buckets", c.buckets},
                      {"differing_buckets", c.differing_buckets},
                      {"still_changing_buckets", c.still_changing_buckets},
                      {"differences_truncated", c.differences_truncated},
                      {"seconds", c.seconds}};
  if (c.seconds > 0 && c.source_rows > 0) j["rows_per_second"] = double(c.source_rows) / c.seconds;
  if (c.source_rows >= 0) j["source_rows"] = c.source_rows;
  if (c.destination_rows >= 0) j["destination_rows"] = c.destination_rows;
  j["differences"] = nlohmann::json::array();
  for (const auto& d : c.differences) j["differences"].push_back({{"kind", d.kind}, {"key", d.key}});
  return j;
}

nlohmann::json comparison_json(const std::string& pipe, CompareLevel level, const std::vector<TableComparison>& tables) {
  bool equal = true;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& t : tables) {
    equal = equal && t.outcome == "equal";
    list.push_back(to_json(t));
  }
  return {{"pipe", pipe}, {"level", to_string(level)}, {"equal", equal}, {"tables", std::move(list)}};
}

std::string to_text(const TableComparison& c) {
  std::string out = fmt::format("{} -> {}: {}\n", c.source_table, c.destination_table, c.outcome);
  for (const auto& p : c.problems) out += "  problem: " + p + "\n";
  if (c.source_rows >= 0)
    out += fmt::format("  rows: source {}, destination {}\n", c.source_rows, c.destination_rows);
  if (c.buckets)
    out += fmt::format("  content: {} buckets, {} differ, {} still changing\n", c.buckets, c.differing_buckets,
                       c.still_changing_buckets);
  for (const auto& d : c.differences) out += fmt::format("  {:<8} {}\n", d.kind, d.key);
  if (c.differences_truncated) out += "  ... (more differences)\n";
  for (const auto& n : c.not_compared) out += "  not compared: " + n + "\n";
  if (c.seconds > 0 && c.source_rows > 0)
    out += fmt::format("  {:.2f} s, {:.0f} rows/s\n", c.seconds, double(c.source_rows) / c.seconds);
  return out;
}

}  // namespace ferry
