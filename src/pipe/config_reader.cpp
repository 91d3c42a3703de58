#include "pipe/config_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace ferry::config_detail {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

std::string qt(const std::string& s) {
  std::string t = s.size() > 60 ? s.substr(0, 57) + "..." : s;
  return "'" + t + "'";
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  auto m = closest_match(word, candidates);
  if (!m || *m == word) return "";
  return " (did you mean '" + *m + "'?)";
}

// A name segment in a key path; empty names are shown as "".
static std::string seg(const std::string& name) { return name.empty() ? "\"\"" : name; }
std::string child(const std::string& path, const std::string& key) {
  return path.empty() ? seg(key) : path + "." + seg(key);
}
std::string index_path(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

bool valid_name(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c >= 0x80) continue;  // non-ASCII letters
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') continue;
    return false;
  }
  return true;
}

bool valid_env_name(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '_')) return false;
  return true;
}

int node_line(const YAML::Node& n, int fallback) {
  if (!n.IsDefined() || n.IsNull()) return fallback;
  auto m = n.Mark();
  if (m.line < 0) return fallback;
  return m.line + 1;
}

std::string describe(const YAML::Node& n, bool show_value) {
  if (!n.IsDefined() || n.IsNull()) return "empty";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  if (!show_value) return "a string";
  return qt(n.Scalar());
}

// Reads a map's entries: keys that are not strings and repeated keys are problems.
// `what` names the keys in messages: "key", "peer name", "pipe name".
MapView read_map(Collector& c, const YAML::Node& map, const std::string& path, const std::string& what) {
  MapView view;
  std::map<std::string, int> first_line;
  for (const auto& kv : map) {  // (it->first would bind to a temporary proxy)
    const YAML::Node k = kv.first;
    const YAML::Node v = kv.second;
    int kline = node_line(k, c.line_of(path));
    if (!k.IsScalar()) {
      c.add(kline, path, "a " + what + " is " + describe(k), "a plain string as " + what);
      continue;
    }
    std::string key = k.Scalar();
    std::string p = child(path, key);
    auto [pos, inserted] = first_line.emplace(key, kline);
    if (!inserted) {
      c.add(kline, p, "duplicate " + what + " " + qt(key) + " (first given at line " + std::to_string(pos->second) + ")",
            "each " + what + " to appear once");
      continue;
    }
    Entry e{key, kline, node_line(v, kline), v};
    c.see(p, e.line);
    view.entries.push_back(std::move(e));
  }
  return view;
}

// Reports keys not in `known`; keys in `known` but not in `applicable` are reported as not applying.
void check_keys(Collector& c, const MapView& view, const std::string& path, const std::vector<std::string>& known,
                const std::string& context) {
  for (const auto& e : view.entries) {
    if (std::find(known.begin(), known.end(), e.key) != known.end()) continue;
    c.add(e.key_line, child(path, e.key), "unknown key " + qt(e.key) + " in " + context + did_you_mean(e.key, known),
          "one of: " + join(known));
  }
}

// A string scalar. Reports and returns nullopt for lists, maps, empty values (unless allowed).
std::optional<std::string> get_string(Collector& c, const Entry& e, const std::string& path, const std::string& expected,
                                      bool allow_empty, bool show_value) {
  if (!e.value.IsDefined() || e.value.IsNull()) {
    if (allow_empty) return std::string();
    c.add(e.line, path, "no value given", expected);
    return std::nullopt;
  }
  if (!e.value.IsScalar()) {
    c.add(e.line, path, "is " + describe(e.value, show_value), expected);
    return std::nullopt;
  }
  const std::string& s = e.value.Scalar();
  if (s.empty() && !allow_empty) {
    c.add(e.line, path, "is an empty string", expected);
    return std::nullopt;
  }
  return s;
}

std::optional<long long> parse_integer(const std::string& s) {
  long long v = 0;
  const char* b = s.data();
  const char* end = s.data() + s.size();
  if (b != end && *b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, end, v);
  if (ec != std::errc() || ptr != end || b == end) return std::nullopt;
  return v;
}

std::optional<long long> get_integer(Collector& c, const Entry& e, const std::string& path, const std::string& expected) {
  if (!e.value.IsDefined() || e.value.IsNull()) {
    c.add(e.line, path, "no value given", expected);
    return std::nullopt;
  }
  if (!e.value.IsScalar()) {
    c.add(e.line, path, "is " + describe(e.value), expected);
    return std::nullopt;
  }
  auto v = parse_integer(e.value.Scalar());
  if (!v) {
    c.add(e.line, path, describe(e.value) + " is not an integer", expected);
    return std::nullopt;
  }
  return v;
}

std::optional<Millis> get_duration(Collector& c, const Entry& e, const std::string& path) {
  if (!e.value.IsDefined() || e.value.IsNull()) {
    c.add(e.line, path, "no value given", kDurationExpected);
    return std::nullopt;
  }
  if (!e.value.IsScalar()) {
    c.add(e.line, path, "is " + describe(e.value), kDurationExpected);
    return std::nullopt;
  }
  const std::string& s = e.value.Scalar();
  if (s.empty()) {
    c.add(e.line, path, "is an empty string", kDurationExpected);
    return std::nullopt;
  }
  if (s[0] == '-') {
    c.add(e.line, path, qt(s) + " is negative", kNonNegativeDurationExpected);
    return std::nullopt;
  }
  auto d = parse_duration(s);
  if (!d) {
    std::string hint;
    if (std::all_of(s.begin(), s.end(), [](unsigned char ch) { return std::isdigit(ch); })) hint = " (no unit)";
    c.add(e.line, path, qt(s) + " is not a duration" + hint, kDurationExpected);
    return std::nullopt;
  }
  return d;
}

// A list of strings (empty names are judged later, with the other column checks).
std::optional<std::vector<std::string>> get_string_list(Collector& c, const Entry& e, const std::string& path,
                                                        const std::string& expected) {
  if (!e.value.IsDefined() || e.value.IsNull()) return std::vector<std::string>{};
  if (!e.value.IsSequence()) {
    c.add(e.line, path, "is " + describe(e.value) + ", not a list", expected);
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (size_t i = 0; i < e.value.size(); ++i) {
    YAML::Node item = e.value[i];
    std::string p = index_path(path, i);
    int line = node_line(item, e.line);
    c.see(p, line);
    if (!item.IsScalar()) {
      c.add(line, p, "is " + describe(item), expected);
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace ferry::config_detail
