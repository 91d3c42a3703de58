// ferry: the command. Parses arguments (DESIGN.md section 7) and hands over
// to cli/commands.cpp; errors are printed with their cause and a non-zero exit.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/test_hooks.h"

namespace {

std::string default_server() {
  const char* env = std::getenv("FERRY_SERVER");
  return env && *env ? env : "http://127.0.0.1:7420";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ferry::cli;
  // Read once, before any thread starts; inert (not handed on) unless a variable is set.
  const ferry::TestHooks hooks = ferry::TestHooks::from_environment();
  const ferry::TestHooks* test_hooks = hooks.any() ? &hooks : nullptr;
  CLI::App app{"ferry: copies tables between databases and keeps them in sync"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--server, -v) also after the subcommand
  bool verbose = false;
  std::string server = default_server();
  app.add_flag("-v,--verbose", verbose, "Debug logging (or set FERRY_LOG=debug)");
  app.add_option("--server", server, "ferry server URL (default $FERRY_SERVER, then http://127.0.0.1:7420)");

  app.add_subcommand("version", "Print the version");

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "Run pipes in the foreground until they complete, fail or are stopped (Ctrl-C)");
  run_cmd->add_option("-f,--file", run.config_file, "Config file (YAML)")->required();
  run_cmd->add_option("--pipe", run.pipes, "Pipe to run (repeatable; default: all pipes of the file)");
  run_cmd->add_option("--catalog", run.catalog, "Catalog location: sqlite:PATH (default sqlite:ferry.db)");
  run_cmd->add_flag("--once", run.once, "Incremental pipes: do a single run and exit");
  run_cmd->add_flag("!--no-progress", run.progress, "Do not draw a progress bar");
  run_cmd->add_flag("--confirm", run.confirm, "New pipes: accept pre-check warnings");

  ServerArgs serve;
  auto* server_cmd = app.add_subcommand("server", "Run every pipe of the catalog and serve the REST API");
  server_cmd->add_option("-f,--file", serve.config_file, "Config file (YAML): its peers and pipes are applied at start");
  server_cmd->add_option("--catalog", serve.catalog, "Catalog location: sqlite:PATH (default sqlite:ferry.db)");
  server_cmd->add_option("--listen", serve.listen, "Address to listen on (default 127.0.0.1:7420)");
  server_cmd->add_flag("--confirm", serve.confirm, "Accept pre-check warnings of the config's new pipes");
  server_cmd->add_option("--token-env", serve.token_env,
                         "Environment variable holding the API token that changes need when listening beyond "
                         "loopback (default FERRY_API_TOKEN)");

  CheckArgs check;
  auto* check_cmd = app.add_subcommand("check", "Pre-check a pipe against the real servers (no server needed)");
  check_cmd->add_option("-f,--file", check.config_file, "Config file (YAML)")->required();
  check_cmd->add_option("--pipe", check.pipe, "Pipe to check")->required();
  check_cmd->add_flag("--confirm", check.confirm, "Accept pre-check warnings (exit 0 with warnings)");
  check_cmd->add_option("--catalog", check.catalog, "Catalog (sqlite:PATH): a pipe found there is not new");
  check_cmd->add_option("--output,-o", check.output, "table (default) or json")->check(CLI::IsMember({"table", "json"}));

  CompareArgs compare;
  auto* compare_cmd = app.add_subcommand("compare", "Compare a pipe's destination tables with its source (no server needed)");
  compare_cmd->add_option("-f,--file", compare.config_file, "Config file (YAML)")->required();
  compare_cmd->add_option("--pipe", compare.pipe, "Pipe to compare")->required();
  compare_cmd->add_option("--table", compare.table, "Only this table (source or destination name)");
  compare_cmd->add_option("--level", compare.level, "objects, count or content (default)")
      ->check(CLI::IsMember({"objects", "count", "content"}));
  compare_cmd->add_option("--rounds", compare.rounds, "Digest rounds for differing ranges (default 3 while streaming, else 1)");
  compare_cmd->add_option("--limit", compare.limit, "Differing keys listed per table (default 20)");
  compare_cmd->add_option("--catalog", compare.catalog,
                          "Catalog (sqlite:PATH) of the pipe: the results are stored there (shown by ferry pipe tables)");
  compare_cmd->add_option("--output,-o", compare.output, "table (default) or json")->check(CLI::IsMember({"table", "json"}));

  ApplyArgs apply;
  auto* apply_cmd = app.add_subcommand("apply", "Create, update or remove pipes on a running server from a config file");
  apply_cmd->add_option("-f,--file", apply.config_file, "Config file (YAML)")->required();
  apply_cmd->add_flag("--prune", apply.prune, "Delete the server's pipes that the file does not name");
  apply_cmd->add_flag("--confirm", apply.confirm, "Accept pre-check warnings of new pipes");
  apply_cmd->add_option("--output,-o", apply.output, "table (default) or json")->check(CLI::IsMember({"table", "json"}));

  auto* pipe_cmd = app.add_subcommand("pipe", "Inspect and control pipes");
  pipe_cmd->require_subcommand(1);
  PipeQueryArgs query;
  for (const char* verb : {"list", "status", "tables", "history"}) {
    std::string help = std::string(verb) == "list"     ? "List pipes with their states"
                       : std::string(verb) == "status" ? "Show a pipe's state, error, checkpoint and lag"
                       : std::string(verb) == "tables" ? "Show a pipe's tables with initial-load statistics"
                                                       : "List a pipe's state transitions with time and reason";
    auto* sub = pipe_cmd->add_subcommand(verb, help);
    if (std::string(verb) != "list") sub->add_option("name", query.name, "Pipe name")->required();
    sub->add_option("--output,-o", query.output, "table (default) or json")->check(CLI::IsMember({"table", "json"}));
    sub->add_option("--catalog", query.catalog, "Read this catalog directly instead of asking the server");
  }
  PipeActionArgs action;
  for (const char* verb : {"pause", "resume", "resync", "reset", "delete"}) {
    auto* sub = pipe_cmd->add_subcommand(verb, std::string("Ask the server to ") + verb + " a pipe");
    sub->add_option("name", action.name, "Pipe name")->required();
    sub->add_option("--output,-o", action.output, "table (default) or json")->check(CLI::IsMember({"table", "json"}));
    if (std::string(verb) == "resync") sub->add_option("--table", action.table, "Resync only this table");
    if (std::string(verb) == "reset") {
      sub->add_flag("--clear-destination", action.clear_destination, "Empty the destination tables first");
      sub->add_flag("--confirm", action.confirm, "Accept pre-check warnings");
    }
    if (std::string(verb) == "delete")
      sub->add_flag("--drop-destination", action.drop_destination, "Also drop the destination tables");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  ferry::init_logging(verbose);

  try {
    if (app.got_subcommand("version")) {
      std::cout << "ferry " << FERRY_VERSION << "\n";
      return 0;
    }
    if (run_cmd->parsed()) {
      run.hooks = test_hooks;
      return run_pipes(run);
    }
    if (server_cmd->parsed()) {
      serve.hooks = test_hooks;
      return run_server(serve);
    }
    if (check_cmd->parsed()) return check_pipe(check);
    if (compare_cmd->parsed()) return compare_pipe(compare);
    if (apply_cmd->parsed()) {
      apply.server = server;
      return apply_config(apply);
    }
    for (auto* sub : pipe_cmd->get_subcommands()) {
      std::string verb = sub->get_name();
      if (verb == "list" || verb == "status" || verb == "tables" || verb == "history") {
        query.verb = verb;
        query.server = server;
        return query_pipes(query);
      }
      action.verb = verb;
      action.server = server;
      return act_on_pipe(action);
    }
  } catch (const ferry::Error& e) {
    std::cerr << "ferry: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ferry: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
