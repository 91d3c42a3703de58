// The ferry command's subcommands, one function each; main.cpp only parses.
#pragma once
#include <string>
#include <vector>

namespace ferry::cli {

struct RunArgs {
  std::string config_file;
  std::vector<std::string> pipes;  // empty: every pipe of the file
  std::string catalog = "sqlite:ferry.db";
  bool once = false;
  bool progress = true;
};
int run_pipes(const RunArgs& args);

struct PipeQueryArgs {
  std::string verb;      // list | status | tables | history
  std::string name;
  std::string catalog;   // read the catalog directly (no server needed)
  std::string server;
  std::string output = "table";  // table | json
};
int query_pipes(const PipeQueryArgs& args);

// A subcommand whose work is not built yet: says so and fails.
int not_built(const std::string& what);

}  // namespace ferry::cli
