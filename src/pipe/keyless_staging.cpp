#include "pipe/keyless_staging.h"

#include <algorithm>

#include "core/log.h"

namespace ferry {

std::string staging_table_name(const std::string& target) { return "ferry_tmp_" + target; }
std::string old_table_name(const std::string& target) { return "ferry_old_" + target; }

void recover_interrupted_swap(Destination& dest, const std::string& target, const std::string& staged_name) {
  const std::string old = old_table_name(target);
  if (!dest.table_exists(old)) return;
  if (!dest.table_exists(target)) {
    const std::string staged = staged_name.empty() ? staging_table_name(target) : staged_name;
    if (dest.table_exists(staged)) {
      spdlog::warn("destination table {} is missing after an interrupted swap: renaming the complete {} to it", target,
                   staged);
      dest.rename_table(staged, target);
    } else {
      spdlog::warn("destination table {} is missing after an interrupted swap: restoring {}", target, old);
      dest.rename_table(old, target);
      return;
    }
  }
  spdlog::info("dropping {} left by an interrupted swap", old);
  dest.drop_table(old);
}

void remove_staging_leftovers(Destination& dest, const std::string& target) {
  recover_interrupted_swap(dest, target);
  const std::string staged = staging_table_name(target);
  if (dest.table_exists(staged)) {
    spdlog::info("dropping leftover staging table {}", staged);
    dest.drop_table(staged);
  }
}

bool prepare_keyless_load(Destination& d, const TableSchema& table, DestinationTable& dest,
                          const std::vector<PartitionRecord>& parts) {
  recover_interrupted_swap(d, dest.name);
  dest.name = staging_table_name(dest.name);
  bool finished = !parts.empty() && std::all_of(parts.begin(), parts.end(), [](const auto& p) { return p.done; });
  if (finished) return false;  // the swap is what is left
  d.ensure_table(table, dest);
  d.truncate_table(dest.name);
  return std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.done; });
}

}  // namespace ferry
