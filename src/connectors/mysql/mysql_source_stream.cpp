// MysqlSource's change data capture methods: the pipe's binlog stream
// (mysql_change_stream.h) and its positions (mysql_stream_control.h).
#include <fmt/format.h>

#include "connectors/mysql/mysql_change_stream.h"
#include "connectors/mysql/mysql_snapshot.h"
#include "connectors/mysql/mysql_source.h"
#include "connectors/mysql/mysql_stream_control.h"
#include "core/error.h"
#include "core/log.h"

namespace ferry::mysql {

namespace {

MysqlEndpoint endpoint_of(const PeerSpec& peer) {
  MysqlEndpoint e;
  if (!peer.host.empty()) e.host = peer.host;
  if (peer.port > 0) e.port = peer.port;
  e.user = peer.user;
  e.password = peer.password;
  return e;
}

}  // namespace

MysqlStreamControl& MysqlSource::control() const {
  if (!control_) control_ = std::make_unique<MysqlStreamControl>(endpoint_of(peer_));
  return *control_;
}

void MysqlSource::prepare_stream(const std::string& pipe, const std::vector<std::string>& tables) {
  std::vector<std::string> names;
  for (const auto& t : tables) {
    auto [db, name] = split_table(t, peer_.database);
    names.push_back(db + "." + name);
  }
  std::lock_guard<std::mutex> lock(stream_mu_);
  stream_tables_[pipe] = std::move(names);
}

// MariaDB keeps nothing per replica: there is no stream start to find or drop.
bool MysqlSource::stream_exists(const std::string&) { return false; }

bool MysqlSource::can_resume_stream(const std::string&, uint64_t position) {
  std::lock_guard<std::mutex> lock(stream_mu_);
  return control().can_stream_from(control().position_of(position));
}

std::unique_ptr<SnapshotPoint> MysqlSource::create_stream(const std::string& pipe, bool with_snapshot,
                                                          uint64_t& position, int readers) {
  if (with_snapshot) {
    // The snapshot's binlog position splits changes exactly (mysql_snapshot.h): the
    // stream starts there, so each change is in the load or in the stream, never both.
    auto point = open_snapshot(true, readers);
    auto* binlog = dynamic_cast<MysqlSnapshotPoint*>(point.get());
    if (!binlog || binlog->binlog_position().file.empty())
      throw Error(ErrorKind::Permanent, fmt::format("pipe {}: the MariaDB server writes no binlog (log_bin is off), so "
                                                    "its changes cannot be streamed", pipe));
    position = point->position();
    std::lock_guard<std::mutex> lock(stream_mu_);
    control().parse_position(binlog->binlog_position().to_string());  // learns the binlog's base name
    return point;
  }
  std::lock_guard<std::mutex> lock(stream_mu_);
  position = control().current_position().version();
  return nullptr;
}

std::unique_ptr<ChangeStream> MysqlSource::open_stream(const std::string& pipe, uint64_t position) {
  std::lock_guard<std::mutex> lock(stream_mu_);
  auto it = stream_tables_.find(pipe);
  if (it == stream_tables_.end() || it->second.empty())
    throw Error(ErrorKind::Permanent,
                fmt::format("internal error: the change stream of pipe {} opened before its tables were given", pipe));
  MysqlStreamControl& c = control();
  BinlogPosition start = c.position_of(position);
  MysqlStreamOptions options;
  options.server_id = c.server_id(pipe);
  auto& acked = acknowledged_[pipe];
  if (!acked) acked = std::make_shared<std::atomic<uint64_t>>(0);
  acked->store(position);
  options.acknowledged = acked;
  return std::make_unique<MysqlChangeStream>(endpoint_of(peer_), start, it->second, options);
}

int64_t MysqlSource::stream_lag_bytes(const std::string& pipe) {
  std::lock_guard<std::mutex> lock(stream_mu_);
  auto it = acknowledged_.find(pipe);
  if (it == acknowledged_.end() || it->second->load() == 0) return 0;
  return control().lag_bytes(it->second->load());
}

std::string MysqlSource::format_position(uint64_t position) const {
  std::lock_guard<std::mutex> lock(stream_mu_);
  return control().format_position(position);
}

uint64_t MysqlSource::parse_position(const std::string& text) const {
  std::lock_guard<std::mutex> lock(stream_mu_);
  return control().parse_position(text);
}

}  // namespace ferry::mysql
