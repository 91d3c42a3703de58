// The config loader's internals (config.cpp, config_reader.cpp, config_validate.cpp):
// collecting problems with their lines, and reading YAML values into typed
// values with a problem for everything that does not fit. Not a public interface.
#pragma once
#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/duration.h"
#include "pipe/config.h"

namespace ferry::config_detail {

inline constexpr const char* kDurationExpected = "a duration like 500ms, 15s, 5m or 1h30m";
inline constexpr const char* kNonNegativeDurationExpected = "a non-negative duration like 500ms, 15s, 5m or 1h30m";
inline constexpr const char* kNameExpected = "a name made of letters, digits, '_', '-' or '.'";
inline constexpr int kMaxParallelism = 64;

std::string join(const std::vector<std::string>& v, const char* sep = ", ");
std::string qt(const std::string& s);  // 'value', shortened past 60 characters
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);
std::string child(const std::string& path, const std::string& key);  // a.b (empty names as "")
std::string index_path(const std::string& path, size_t i);           // a[i]
bool valid_name(const std::string& s);      // letters, digits, '_', '-', '.'
bool valid_env_name(const std::string& s);  // a shell variable name

// Problems collected while reading, with the line of every path seen.
struct Collector {
  std::string file;
  std::vector<ConfigProblem> problems;
  std::set<std::string> bad;          // paths that already have a problem
  std::map<std::string, int> lines;   // path -> 1-based line
  bool peers_unusable = false;        // the peers section itself is broken: don't judge references

  void add(int line, const std::string& path, const std::string& what, const std::string& expected) {
    problems.push_back({file, line, path, what + "; expected " + expected});
    bad.insert(path);
  }
  // Semantic problems: skipped when the path already has one, line from what was seen.
  void add_at(const std::string& path, const std::string& what, const std::string& expected) {
    if (bad.count(path)) return;
    add(line_of(path), path, what, expected);
  }
  bool is_bad(const std::string& path) const { return bad.count(path) > 0; }
  void see(const std::string& path, int line) {
    if (line > 0) lines.emplace(path, line);
  }
  int line_of(std::string path) const {
    while (!path.empty()) {
      auto it = lines.find(path);
      if (it != lines.end()) return it->second;
      size_t cut = path.find_last_of(".[");
      if (cut == std::string::npos) break;
      path.resize(cut);
    }
    return 0;
  }
};

int node_line(const YAML::Node& n, int fallback);
// "empty", "a list", "a map", "a string" or the quoted value.
std::string describe(const YAML::Node& n, bool show_value = true);

struct Entry {
  std::string key;
  int key_line = 0;
  int line = 0;  // line of the value (or the key when the value is empty)
  YAML::Node value;
};

struct MapView {
  std::vector<Entry> entries;  // first occurrence of each key, in file order
  const Entry* get(const std::string& key) const {
    for (const auto& e : entries)
      if (e.key == key) return &e;
    return nullptr;
  }
};

// Reads a map's entries: keys that are not strings and repeated keys are problems.
// `what` names the keys in messages: "key", "peer name", "pipe name".
MapView read_map(Collector& c, const YAML::Node& map, const std::string& path, const std::string& what);
// Reports keys not in `known`.
void check_keys(Collector& c, const MapView& view, const std::string& path, const std::vector<std::string>& known,
                const std::string& context);
// A string scalar. Reports and returns nullopt for lists, maps, empty values (unless allowed).
std::optional<std::string> get_string(Collector& c, const Entry& e, const std::string& path, const std::string& expected,
                                      bool allow_empty = false, bool show_value = true);
std::optional<long long> parse_integer(const std::string& s);
std::optional<long long> get_integer(Collector& c, const Entry& e, const std::string& path, const std::string& expected);
std::optional<Millis> get_duration(Collector& c, const Entry& e, const std::string& path);
// A list of strings (empty names are judged later, with the other column checks).
std::optional<std::vector<std::string>> get_string_list(Collector& c, const Entry& e, const std::string& path,
                                                        const std::string& expected);

// Semantic checks of a pipe against the peers (config_validate.cpp), shared by the
// YAML loader and validate_pipe.
void validate_pipe_impl(Collector& c, const PipeSpec& p, const std::map<std::string, PeerSpec>& peers);

}  // namespace ferry::config_detail
