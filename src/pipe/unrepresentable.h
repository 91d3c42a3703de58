// Values a destination could not store exactly and wrote under the pipe's
// on_unrepresentable policy (null / clamp): counted per table and column in the
// catalog (meta "unrepresentable"), shown by `ferry pipe tables`, the API and /metrics.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ferry {

class Catalog;
struct PipeSpec;
struct UnrepresentableCount;

struct UnrepresentableTally {
  int64_t count = 0;
  std::string first_value;
};
// source table -> column -> tally
using UnrepresentableTallies = std::map<std::string, std::map<std::string, UnrepresentableTally>>;

// Adds `counts` (by destination table, also `<table>_resync` copies) to the pipe's
// tallies. Thread-safe within a process. Counts writes: a batch replayed after a crash
// may count its values again.
void record_unrepresentable(Catalog& catalog, const PipeSpec& pipe, const std::vector<UnrepresentableCount>& counts);
UnrepresentableTallies unrepresentable_tallies(Catalog& catalog, const std::string& pipe);
// Forgets a pipe's tallies (reset, resync of its tables).
void clear_unrepresentable(Catalog& catalog, const std::string& pipe);

}  // namespace ferry
