// `ferry compare`: compares a pipe's tables between source and destination (pipe/compare.h).
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "pipe/compare.h"
#include "pipe/config.h"

namespace ferry::cli {

int compare_pipe(const CompareArgs& args) {
  Config config = load_config_file(args.config_file);
  auto it = config.pipes.find(args.pipe);
  if (it == config.pipes.end())
    throw Error(ErrorKind::Config, fmt::format("{}: no pipe named '{}'", args.config_file, args.pipe));
  const PipeSpec& spec = it->second;
  CompareOptions options = compare_options_for(spec, parse_compare_level(args.level));
  if (args.rounds > 0) options.rounds = args.rounds;
  if (args.limit > 0) options.key_limit = args.limit;
  std::vector<TableComparison> tables =
      ferry::compare_pipe(spec, config.peers.at(spec.source), config.peers.at(spec.destination), options, args.table);
  bool equal = true;
  for (const auto& t : tables) equal = equal && t.outcome == "equal";
  if (args.output == "json") {
    nlohmann::json j = {{"pipe", spec.name}, {"level", args.level}, {"equal", equal}, {"tables", nlohmann::json::array()}};
    for (const auto& t : tables) j["tables"].push_back(to_json(t));
    std::cout << j.dump(2) << "\n";
  } else {
    for (const auto& t : tables) std::cout << to_text(t);
    std::cout << (equal ? "equal\n" : "NOT equal\n");
  }
  return equal ? 0 : 1;
}

}  // namespace ferry::cli
