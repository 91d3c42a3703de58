#include "pipe/connection_strings.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace ferry {

namespace {

bool keyword_dsn_has_password(const std::string& dsn) {
  std::string lower = dsn;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  size_t pos = 0;
  while ((pos = lower.find("password", pos)) != std::string::npos) {
    bool starts_word = pos == 0 || std::isspace(static_cast<unsigned char>(lower[pos - 1]));
    size_t i = pos + 8;
    while (i < lower.size() && std::isspace(static_cast<unsigned char>(lower[i]))) ++i;
    if (starts_word && i < lower.size() && lower[i] == '=') return true;
    pos += 8;
  }
  return false;
}

// scheme://user:password@host...
bool url_has_password(const std::string& url) {
  size_t s = url.find("://");
  if (s == std::string::npos) return false;
  size_t start = s + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t q = url.find('?', start);
  if (q != std::string::npos) {
    std::string query = url.substr(q + 1);
    std::transform(query.begin(), query.end(), query.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (query.rfind("password=", 0) == 0 || query.find("&password=") != std::string::npos) return true;
  }
  size_t at = authority.rfind('@');
  if (at == std::string::npos) return false;
  return authority.substr(0, at).find(':') != std::string::npos;
}

}  // namespace

bool dsn_has_password(const std::string& dsn) {
  return dsn.find("://") != std::string::npos ? url_has_password(dsn) : keyword_dsn_has_password(dsn);
}

namespace {
std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) && std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::optional<MysqlUrl> parse_mysql_url(const std::string& url, std::string& why) {
  std::string rest;
  if (url.rfind("mysql://", 0) == 0) rest = url.substr(8);
  else if (url.rfind("mariadb://", 0) == 0) rest = url.substr(10);
  else {
    why = "does not start with mysql://";
    return std::nullopt;
  }
  if (rest.find_first_of("?#") != std::string::npos) {
    why = "has query parameters, which are not supported";
    return std::nullopt;
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string db = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (db.find('/') != std::string::npos) {
    why = "has more than one path segment";
    return std::nullopt;
  }
  MysqlUrl out;
  out.database = percent_decode(db);
  size_t at = authority.rfind('@');
  std::string hostport = authority;
  if (at != std::string::npos) {
    std::string userinfo = authority.substr(0, at);
    if (userinfo.find(':') != std::string::npos) {
      why = "contains a password";
      return std::nullopt;
    }
    out.user = percent_decode(userinfo);
    hostport = authority.substr(at + 1);
  }
  std::string port_text;
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string::npos) {
      why = "has an unterminated [IPv6] host";
      return std::nullopt;
    }
    out.host = hostport.substr(1, close - 1);
    std::string after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        why = "has text after the [IPv6] host";
        return std::nullopt;
      }
      port_text = after.substr(1);
      if (port_text.empty()) {
        why = "has an empty port";
        return std::nullopt;
      }
    }
  } else {
    size_t colon = hostport.rfind(':');
    out.host = hostport.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = hostport.substr(colon + 1);
      if (port_text.empty()) {
        why = "has an empty port";
        return std::nullopt;
      }
    }
  }
  if (out.host.empty()) {
    why = "has no host";
    return std::nullopt;
  }
  if (!port_text.empty()) {
    int p = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || p < 1 || p > 65535) {
      why = "has a port that is not an integer from 1 to 65535";
      return std::nullopt;
    }
    out.port = p;
  }
  return out;
}

}  // namespace ferry
