#include "connectors/kafka/kafka_settings.h"

#include <algorithm>
#include <charconv>

#include "core/error.h"

namespace ferry::kafka {

const std::vector<std::string>& option_keys() {
  static const std::vector<std::string> keys = {
      "bootstrap_servers", "topic",           "topic_prefix",      "create_topics",
      "partitions",        "replication_factor", "cleanup_policy", "compression",
      "security_protocol", "sasl_mechanism",  "ssl_ca_location",   "ssl_certificate_location",
      "ssl_key_location",  "message_timeout_ms"};
  return keys;
}

namespace {

[[noreturn]] void bad(const PeerSpec& peer, const std::string& key, const std::string& why, const std::string& expected) {
  throw Error(ErrorKind::Config, "peer '" + peer.name + "': " + key + " " + why + "; expected " + expected);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string one_of(const PeerSpec& peer, const std::string& key, const std::string& value,
                   const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end())
    bad(peer, key, "'" + value + "' is not allowed", "one of: " + join(allowed));
  return value;
}

int integer(const PeerSpec& peer, const std::string& key, const std::string& value, int min, int max) {
  int v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size() || v < min || v > max)
    bad(peer, key, "'" + value + "' is not an integer from " + std::to_string(min) + " to " + std::to_string(max),
        "an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return v;
}

}  // namespace

KafkaSettings parse_settings(const PeerSpec& peer) {
  KafkaSettings s;
  s.topic_prefix = peer.name;
  for (const auto& [key, value] : peer.options) {
    if (key == "bootstrap_servers") s.bootstrap_servers = value;
    else if (key == "topic") s.topic = value;
    else if (key == "topic_prefix") s.topic_prefix = value;
    else if (key == "create_topics") {
      if (value == "true") s.create_topics = true;
      else if (value == "false") s.create_topics = false;
      else bad(peer, key, "'" + value + "' is not a boolean", "true or false");
    } else if (key == "partitions") s.partitions = integer(peer, key, value, 1, 10000);
    else if (key == "replication_factor") s.replication_factor = value == "-1" ? -1 : integer(peer, key, value, 1, 100);
    else if (key == "cleanup_policy") s.cleanup_policy = one_of(peer, key, value, {"delete", "compact", "compact,delete"});
    else if (key == "compression") s.compression = one_of(peer, key, value, {"none", "gzip", "snappy", "lz4", "zstd"});
    else if (key == "security_protocol")
      s.security_protocol = one_of(peer, key, value, {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"});
    else if (key == "sasl_mechanism") s.sasl_mechanism = one_of(peer, key, value, {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"});
    else if (key == "ssl_ca_location") s.ssl_ca_location = value;
    else if (key == "ssl_certificate_location") s.ssl_certificate_location = value;
    else if (key == "ssl_key_location") s.ssl_key_location = value;
    else if (key == "message_timeout_ms") s.message_timeout_ms = integer(peer, key, value, 1000, 3600000);
    else bad(peer, key, "is not a kafka setting", "one of: " + join(option_keys()));
  }
  if (s.bootstrap_servers.empty())
    bad(peer, "bootstrap_servers", "is missing", "host:port[,host:port...] of the Kafka brokers");
  if (s.topic.find("{table}") == std::string::npos && s.topic.find("{destination}") == std::string::npos)
    bad(peer, "topic", "'" + s.topic + "' names no table", "a template with {table} or {destination}, like \"{prefix}.{schema}.{table}\"");
  bool sasl = s.security_protocol.rfind("sasl_", 0) == 0;
  if (sasl && s.sasl_mechanism.empty())
    bad(peer, "sasl_mechanism", "is missing for security_protocol " + s.security_protocol, "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512");
  if (!sasl && !s.sasl_mechanism.empty())
    bad(peer, "sasl_mechanism", "is given but security_protocol is " + s.security_protocol, "security_protocol sasl_plaintext or sasl_ssl");
  s.sasl_username = peer.user;
  s.sasl_password = peer.password;
  if (sasl && s.sasl_username.empty()) bad(peer, "user", "is missing for SASL", "the SASL user name");
  return s;
}

std::string topic_name(const std::string& tmpl, const std::string& prefix, const std::string& schema,
                       const std::string& table, const std::string& destination) {
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    auto take = [&](const char* ph, const std::string& v) {
      size_t n = std::char_traits<char>::length(ph);
      if (tmpl.compare(i, n, ph) != 0) return false;
      out += v;
      i += n;
      return true;
    };
    if (take("{prefix}", prefix) || take("{schema}", schema) || take("{table}", table) ||
        take("{destination}", destination))
      continue;
    out += tmpl[i++];
  }
  std::string clean;
  for (char c : out) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    char d = ok ? c : '_';
    if (d == '.' && (clean.empty() || clean.back() == '.')) continue;
    clean += d;
  }
  while (!clean.empty() && clean.back() == '.') clean.pop_back();
  return clean;
}

}  // namespace ferry::kafka
