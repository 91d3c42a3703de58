#include "connectors/api/destination.h"

#include "core/error.h"
#include "core/check.h"
#include "core/spec.h"

namespace ferry {

void Destination::apply_changes(const ChangeBatch&) {
  throw Error(ErrorKind::Permanent, "this destination cannot apply changes (see capabilities())");
}

uint64_t Destination::stored_checkpoint(const std::string&) {
  throw Error(ErrorKind::Permanent, "this destination holds no checkpoint (see capabilities())");
}

void Destination::apply_changes_checkpointed(const ChangeBatch&, const std::string&, uint64_t) {
  throw Error(ErrorKind::Permanent, "this destination holds no checkpoint (see capabilities())");
}

void Destination::clear_checkpoint(const std::string&) {
  throw Error(ErrorKind::Permanent, "this destination holds no checkpoint (see capabilities())");
}

void Destination::add_missing_columns(const TableSchema&, const DestinationTable&) {
  throw Error(ErrorKind::Permanent, "this destination cannot add columns (see capabilities())");
}

int64_t Destination::delete_stale_rows(const DestinationTable&, uint64_t) {
  throw Error(ErrorKind::Permanent, "this destination cannot delete stale rows (see capabilities())");
}

bool Destination::table_exists(const std::string&) {
  throw Error(ErrorKind::Permanent, "this destination cannot look up tables (see capabilities())");
}

void Destination::truncate_table(const std::string&) {
  throw Error(ErrorKind::Permanent, "this destination cannot truncate tables (see capabilities())");
}

void Destination::swap_table(const std::string&, const std::string&) {
  throw Error(ErrorKind::Permanent, "this destination cannot swap tables (see capabilities())");
}

void Destination::rename_table(const std::string&, const std::string&) {
  throw Error(ErrorKind::Permanent, "this destination cannot rename tables (see capabilities())");
}

void Destination::rename_tables(const std::vector<std::pair<std::string, std::string>>&) {
  throw Error(ErrorKind::Permanent, "this destination cannot rename tables (see capabilities())");
}

void Destination::exchange_tables(const std::string&, const std::string&) {
  throw Error(ErrorKind::Permanent, "this destination cannot exchange tables (see capabilities())");
}

int64_t Destination::carry_deleted_rows(const TableSchema&, const std::string&, const std::string&) {
  throw Error(ErrorKind::Permanent, "this destination cannot carry deleted rows (see capabilities())");
}

void Destination::precheck(const PipeSpec&, bool, std::vector<CheckResult>& out) {
  try {
    out.push_back(check_pass("destination connectivity", "connected: " + server_version()));
  } catch (const std::exception& e) {
    out.push_back(check_fail("destination connectivity", e.what(),
                             "check that the destination server runs and that the peer's address and user are right"));
  }
}

}  // namespace ferry

namespace ferry {
std::unique_ptr<TableDigester> Destination::digester(const TableSchema&, const DestinationTable&) {
  throw Error(ErrorKind::Config, "this destination type cannot be compared yet (ferry compare supports clickhouse)");
}
}  // namespace ferry
