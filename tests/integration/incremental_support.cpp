#include "incremental_support.h"

#include <fmt/format.h>

#include "pipe/runner.h"
#include "../shared/pipe_spec.h"

namespace ferry::test {

TableMapping mapping(const std::string& source, const std::string& cursor, std::optional<std::string> initial_value) {
  TableMapping t = table_mapping(source);
  t.cursor = cursor;
  t.initial_value = std::move(initial_value);
  return t;
}

PipeSpec incremental_pipe(const std::vector<TableMapping>& tables, std::chrono::milliseconds delay) {
  PipeSpec p = pipe_spec("inc", PipeMode::Incremental, {});
  p.tables = tables;
  p.settings.increment_delay = Millis(delay.count());
  p.settings.schedule = Millis(3600 * 1000);
  p.settings.max_retries = 0;
  return p;
}

PipeState run_once(Catalog& catalog, const PipeSpec& pipe, const PeerSpec& source, const PeerSpec& destination) {
  RunnerOptions opts;
  opts.once = true;
  PipeRunner runner(catalog, pipe, source, destination, opts);
  return runner.run();
}

std::vector<std::vector<std::string>> ch_live(Sandbox& sb, const std::string& table, const std::string& columns,
                                              const std::string& order) {
  return sb.ch_rows(fmt::format("SELECT {} FROM {} FINAL WHERE _ferry_is_deleted = 0 ORDER BY {}", columns,
                                ch_table(sb, table), order));
}

}  // namespace ferry::test
