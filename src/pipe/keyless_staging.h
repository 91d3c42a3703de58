// Keyless tables in snapshot loads (DESIGN.md section 6). A destination table
// without a key cannot drop the rows a partition loaded twice, so a keyless
// table's load goes into `ferry_tmp_<table>` (created like the target) and is
// swapped in when all of its partitions are done; a load interrupted by a crash
// starts that table again from an empty staging table. Leftovers of an
// interrupted swap (`ferry_old_<table>`) are resolved so the target is never lost.
#pragma once
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "connectors/api/destination.h"

namespace ferry {

std::string staging_table_name(const std::string& target);  // ferry_tmp_<target>
std::string old_table_name(const std::string& target);      // ferry_old_<target>

// Finishes or undoes a swap that a crash interrupted: afterwards `target` exists
// whenever a copy of its rows existed, and `ferry_old_<target>` is gone.
// The staging table is renamed to the target only when the target is missing next to
// ferry_old_ (the crash hit between the two renames; a swap starts only with a
// complete staging table).
// `staged`: the table that was being swapped in (default ferry_tmp_<target>).
void recover_interrupted_swap(Destination& dest, const std::string& target, const std::string& staged = {});

// Setup: no load owns a staging table yet; removes ferry_tmp_/ferry_old_ leftovers
// of `target` (after recover_interrupted_swap).
void remove_staging_leftovers(Destination& dest, const std::string& target);

// Snapshot phase, per keyless table (`parts`: its recorded partitions): resolves an
// interrupted swap and points `dest` at the staging table; when the table's load is not
// finished, creates the staging table like the target and empties it. Returns true when
// some partitions were already loaded (before a crash or pause): the caller plans the
// table again, as their rows are gone.
bool prepare_keyless_load(Destination& d, const TableSchema& table, DestinationTable& dest,
                          const std::vector<PartitionRecord>& parts);

}  // namespace ferry
