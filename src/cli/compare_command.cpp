// `ferry compare`: compares a pipe's tables between source and destination (pipe/compare.h).
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/error.h"
#include "pipe/compare.h"
#include "pipe/compare_record.h"
#include "pipe/config.h"

namespace ferry::cli {

int compare_pipe(const CompareArgs& args) {
  Config config = load_config_file(args.config_file);
  auto it = config.pipes.find(args.pipe);
  if (it == config.pipes.end())
    throw Error(ErrorKind::Config, fmt::format("{}: no pipe named '{}'", args.config_file, args.pipe));
  const PipeSpec& spec = it->second;
  CompareLevel level = parse_compare_level(args.level);
  // Opened first: a catalog that cannot be opened fails before the comparison's work.
  std::unique_ptr<Catalog> catalog = args.catalog.empty() ? nullptr : open_catalog(args.catalog);
  CompareOptions options = compare_options_for(spec, level);
  if (args.rounds > 0) options.rounds = args.rounds;
  if (args.limit > 0) options.key_limit = args.limit;
  std::vector<TableComparison> tables =
      ferry::compare_pipe(spec, config.peers.at(spec.source), config.peers.at(spec.destination), options, args.table);
  if (catalog) {
    if (catalog->get_pipe(spec.name))
      record_comparisons(*catalog, spec.name, level, tables, to_epoch_ms(Clock::system().now()));
    else
      std::cerr << "ferry: pipe " << spec.name << " is not in the catalog " << args.catalog << ": results not stored\n";
  }
  bool equal = true;
  for (const auto& t : tables) equal = equal && t.outcome == "equal";
  if (args.output == "json") {
    std::cout << comparison_json(spec.name, level, tables).dump(2) << "\n";
  } else {
    for (const auto& t : tables) std::cout << to_text(t);
    std::cout << (equal ? "equal\n" : "NOT equal\n");
  }
  return equal ? 0 : 1;
}

}  // namespace ferry::cli
