// The ferry command's subcommands, one function each; main.cpp only parses.
#pragma once
#include <string>
#include <vector>

namespace ferry {
struct TestHooks;
}

namespace ferry::cli {

struct RunArgs {
  std::string config_file;
  std::vector<std::string> pipes;  // empty: every pipe of the file
  std::string catalog = "sqlite:ferry.db";
  bool once = false;
  bool progress = true;
  bool confirm = false;  // accept pre-check warnings of new pipes
  const TestHooks* hooks = nullptr;  // handed to the runners; not owned
};
// Pipes not yet in the catalog are pre-checked first (pipe/precheck.h): below
// 100% or with warnings and no `confirm`, the report is printed and nothing runs (exit 1).
int run_pipes(const RunArgs& args);

struct CheckArgs {
  std::string config_file;
  std::string pipe;
  bool confirm = false;
  std::string catalog;           // optional: a pipe found there is not new
  std::string output = "table";  // table | json
};
// `ferry check`: prints the pre-check report; 0 when it passes (warnings need confirm), 1 otherwise.
int check_pipe(const CheckArgs& args);

struct CompareArgs {
  std::string config_file;
  std::string pipe;
  std::string table;               // empty: every table of the pipe
  std::string level = "content";   // objects | count | content
  int rounds = 0;                  // 0: the pipe's default (compare_options_for)
  size_t limit = 0;                // differing keys listed per table; 0: default
  std::string output = "table";    // table | json
  std::string catalog;             // optional: each table's result is stored there as its last comparison
};
// `ferry compare` (compare_command.cpp): 0 when every table is equal, 1 otherwise.
int compare_pipe(const CompareArgs& args);

struct PipeQueryArgs {
  std::string verb;      // list | status | tables | history
  std::string name;
  std::string catalog;   // read the catalog directly (no server needed)
  std::string server;
  std::string output = "table";  // table | json
};
// Against the server (args.server) unless args.catalog names a catalog file.
int query_pipes(const PipeQueryArgs& args);

// Exit codes of the commands that talk to a server.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;   // 409 refused in this state, 404 not found
inline constexpr int kExitError = 2;     // bad input, server unreachable, other errors
inline constexpr int kExitNotBuilt = 3;  // 501
int exit_code_for_status(long http_status);

struct PipeActionArgs {
  std::string verb;  // pause | resume | resync | reset | delete
  std::string name;
  std::string table;
  bool clear_destination = false;
  bool confirm = false;
  bool drop_destination = false;
  std::string server;
  std::string output = "table";
};
// POST /api/v1/pipes/{name}/{verb}.
int act_on_pipe(const PipeActionArgs& args);

struct ApplyArgs {
  std::string config_file;
  bool prune = false;
  bool confirm = false;  // accept pre-check warnings of new pipes
  std::string server;
  std::string output = "table";
};
// POST /api/v1/apply with the file's YAML.
int apply_config(const ApplyArgs& args);

struct ServerArgs {
  std::string config_file;  // optional: without it, the catalog's pipes and peers
  std::string catalog = "sqlite:ferry.db";
  std::string listen = "127.0.0.1:7420";
  std::string token_env = "FERRY_API_TOKEN";
  bool confirm = false;  // accept pre-check warnings of the config's new pipes
  const TestHooks* hooks = nullptr;  // handed to the runners; not owned
};
// `ferry server`: runs the pipes and serves the REST API until SIGTERM/SIGINT.
int run_server(const ServerArgs& args);

// A subcommand whose work is not built yet: says so and fails.
int not_built(const std::string& what);

}  // namespace ferry::cli
