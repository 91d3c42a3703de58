// Loading and validating the user's config file (DESIGN.md section 7).
//
// The YAML is checked in full before anything runs: every problem found is
// collected, and the error thrown lists each on its own line as
//
//   <file>:<line>: <key.path>: <what is wrong>; expected <what was expected>
//
// e.g. `ferry.yaml:14: pipes.shop_to_lake.settings.sync_interval: "10 seconds"
// is not a duration; expected a duration like 500ms, 15s, 5m or 1h30m`.
//
// Secrets: `password_env` names an environment variable that is resolved into
// PeerSpec::password at load time. Passwords never appear in any message, and
// plain passwords in the file (a `password:` key, a password inside a dsn or
// URL) are refused.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/spec.h"

namespace ferry {

// Looks up an environment variable; nullopt when it is not set. Injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The real process environment (getenv).
const EnvLookup& process_env();

struct ConfigProblem {
  std::string file;
  int line = 0;          // 1-based; 0 when the problem is not tied to a line
  std::string path;      // key path, e.g. "pipes.shop_to_lake.tables[1].cursor"; may be empty
  std::string message;   // "<what is wrong>; expected <what was expected>"
  // "<file>:<line>: <path>: <message>" (line and path left out when absent).
  std::string to_string() const;
};

// All problems, one per line, in file order.
std::string format_problems(const std::vector<ConfigProblem>& problems);

struct ConfigCheck {
  Config config;                        // as much as could be understood
  std::vector<ConfigProblem> problems;  // empty when the config is valid
  bool ok() const { return problems.empty(); }
};

// Parse and validate without throwing: every problem is returned.
// When `env` is empty (a default-constructed std::function), password_env is
// checked for form only and not resolved (for tools that must not need secrets).
ConfigCheck check_config(const std::string& yaml_text, const std::string& file_name_for_messages,
                         const EnvLookup& env);
ConfigCheck check_config_file(const std::string& path, const EnvLookup& env = process_env());

// Parse and validate; throws Error(ErrorKind::Config) listing every problem.
Config parse_config(const std::string& yaml_text, const std::string& file_name_for_messages,
                    const EnvLookup& env);
Config load_config_file(const std::string& path, const EnvLookup& env = process_env());

// Semantic checks of one pipe against a set of peers, for specs that did not
// come from a YAML file (REST API, catalog). Problems have line 0 and paths
// "pipes.<name>...", file = `file_name_for_messages`.
std::vector<ConfigProblem> validate_pipe(const PipeSpec& pipe, const std::map<std::string, PeerSpec>& peers,
                                         const std::string& file_name_for_messages = "");

// Resolves peer.password from peer.password_env (no-op when password_env is empty).
// Throws Error(ErrorKind::Config) naming the variable (never a value) when it is not set.
void resolve_password(PeerSpec& peer, const EnvLookup& env = process_env());

// Edit distance (Levenshtein), exposed for tests and for "did you mean" elsewhere (CLI).
size_t edit_distance(const std::string& a, const std::string& b);
// The candidate closest to `word` within edit distance 2, if any.
std::optional<std::string> closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace ferry
