#include "core/check.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ferry {

const char* to_string(CheckResult::Status s) {
  switch (s) {
    case CheckResult::Pass: return "PASS";
    case CheckResult::Warn: return "WARN";
    case CheckResult::Fail: return "FAIL";
  }
  return "?";
}

namespace {
int count(const std::vector<CheckResult>& checks, CheckResult::Status s) {
  int n = 0;
  for (const auto& c : checks) n += c.status == s;
  return n;
}
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}
}  // namespace

int PrecheckReport::passed() const { return count(checks, CheckResult::Pass); }
int PrecheckReport::warned() const { return count(checks, CheckResult::Warn); }
int PrecheckReport::failed() const { return count(checks, CheckResult::Fail); }

double PrecheckReport::success_rate() const {
  if (checks.empty()) return 100.0;
  return 100.0 * double(passed() + warned()) / double(checks.size());
}

bool PrecheckReport::ok(bool confirm) const { return failed() == 0 && (confirm || warned() == 0); }

std::string PrecheckReport::to_text() const {
  size_t width = 0;
  for (const auto& c : checks) width = std::max(width, c.name.size());
  std::string out;
  for (const auto& c : checks) {
    std::string line = fmt::format("{}  {:<{}}  {}", to_string(c.status), c.name, width, one_line(c.reason));
    out += one_line(line) + "\n";
    if (c.status != CheckResult::Pass && !c.hint.empty()) out += fmt::format("      hint: {}\n", one_line(c.hint));
  }
  // Floor, so that 99.6% never shows as 100%.
  out += fmt::format("success rate: {}% ({} passed, {} warnings, {} failed)\n", int(std::floor(success_rate())),
                     passed(), warned(), failed());
  return out;
}

nlohmann::json PrecheckReport::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : checks) {
    std::string status = c.status == CheckResult::Pass ? "pass" : c.status == CheckResult::Warn ? "warn" : "fail";
    list.push_back({{"name", c.name}, {"status", status}, {"reason", one_line(c.reason)}, {"hint", c.hint}});
  }
  return {{"success_rate", int(std::floor(success_rate()))},
          {"passed", passed()},
          {"warnings", warned()},
          {"failed", failed()},
          {"checks", list}};
}

CheckResult check_pass(std::string name, std::string reason) {
  return {std::move(name), CheckResult::Pass, std::move(reason), ""};
}
CheckResult check_warn(std::string name, std::string reason, std::string hint) {
  return {std::move(name), CheckResult::Warn, std::move(reason), std::move(hint)};
}
CheckResult check_fail(std::string name, std::string reason, std::string hint) {
  return {std::move(name), CheckResult::Fail, std::move(reason), std::move(hint)};
}

}  // namespace ferry
