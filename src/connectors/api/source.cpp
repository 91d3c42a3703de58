#include "connectors/api/source.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/check.h"
#include "core/spec.h"

namespace ferry {

namespace {
// Reached only when a caller skipped capabilities(): a programming error, not a config one.
[[noreturn]] void no_stream() { throw Error(ErrorKind::Permanent, "this source cannot stream changes (capabilities().change_stream)"); }
}  // namespace

void Source::prepare_stream(const std::string&, const std::vector<std::string>&) { no_stream(); }
bool Source::stream_exists(const std::string&) { no_stream(); }
std::unique_ptr<SnapshotPoint> Source::create_stream(const std::string&, bool, uint64_t&, int) { no_stream(); }
std::unique_ptr<ChangeStream> Source::open_stream(const std::string&, uint64_t) { no_stream(); }
void Source::drop_stream(const std::string&) {}
int64_t Source::stream_lag_bytes(const std::string&) { return 0; }
std::string Source::format_position(uint64_t position) const { return std::to_string(position); }
uint64_t Source::parse_position(const std::string& text) const { return std::stoull(text); }

namespace {
[[noreturn]] void no_incremental() { throw Error(ErrorKind::Permanent, "this source cannot copy incrementally (capabilities().incremental)"); }
}  // namespace

CursorProbe Source::probe_cursor(const TableSchema&, const std::string&, const std::optional<std::string>&) {
  no_incremental();
}
std::unique_ptr<CopyStream> Source::read_range(const TableSchema&, const std::string&,
                                               const std::optional<std::string>&, const std::string&) {
  no_incremental();
}

void Source::precheck(const PipeSpec& pipe, std::vector<CheckResult>& out) {
  try {
    out.push_back(check_pass("source connectivity", "connected: " + server_version()));
  } catch (const std::exception& e) {
    out.push_back(check_fail("source connectivity", e.what(),
                             "check that the source server runs and that the peer's address, user and password are right"));
    return;
  }
}

std::pair<std::optional<std::string>, std::optional<std::string>> Source::column_min_max(const TableSchema&,
                                                                                       const std::string&) {
  throw Error(ErrorKind::Permanent, "this source cannot report column ranges (capabilities().column_ranges)");
}

}  // namespace ferry

namespace ferry {
std::unique_ptr<TableDigester> Source::digester(const TableSchema&) {
  throw Error(ErrorKind::Config, "this source type cannot be compared yet (ferry compare supports postgres and mysql sources)");
}
}  // namespace ferry
