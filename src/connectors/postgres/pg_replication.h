// PostgreSQL logical replication for CDC: publication and slot lifecycle,
// and the change stream over the streaming replication protocol (pgoutput,
// START_REPLICATION, standby status updates). Decoding is in pgoutput.h and
// replication_protocol.h (pure); this file does the I/O and translates
// pgoutput messages into source-neutral ChangeEvents.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/api/change_stream.h"
#include "connectors/api/source.h"
#include "core/spec.h"

namespace ferry {

class PgConnection;

// Names ferry gives the slot and publication of a pipe (valid slot names:
// lowercase letters, digits, underscores; at most 63 bytes).
std::string pg_slot_name(const std::string& pipe);
std::string pg_publication_name(const std::string& pipe);

struct PgSlotState {
  uint64_t confirmed_flush = 0;
  uint64_t restart_lsn = 0;
  bool active = false;
};

class PgReplicationAdmin {
 public:
  explicit PgReplicationAdmin(const PeerSpec& peer);
  ~PgReplicationAdmin();

  // Creates the publication, or sets its table list to exactly `tables` ("schema.table").
  void ensure_publication(const std::string& publication, const std::vector<std::string>& tables);
  void drop_publication(const std::string& publication);
  std::optional<PgSlotState> slot(const std::string& slot);
  void drop_slot(const std::string& slot);
  uint64_t current_wal_lsn();

 private:
  PeerSpec peer_;
  std::unique_ptr<PgConnection> conn_;
};

// A slot created with an exported snapshot: the snapshot is the consistent
// point of the initial load and stays importable while this object lives.
class PgSlotSnapshot final : public SnapshotPoint {
 public:
  // `temporary`: the slot only serves the snapshot and goes with the connection.
  PgSlotSnapshot(const PeerSpec& peer, const std::string& slot, bool temporary = false);
  ~PgSlotSnapshot() override;
  const std::string& id() const override { return snapshot_; }
  uint64_t consistent_point() const { return consistent_point_; }
  uint64_t position() const override { return consistent_point_; }

 private:
  std::unique_ptr<PgConnection> conn_;  // replication connection, idle until destroyed
  std::string snapshot_;
  uint64_t consistent_point_ = 0;
};

// A fresh name for a temporary slot ("ferry_snap_<random hex>").
std::string pg_temporary_slot_name();

// Creates a slot without a snapshot (mode cdc: stream from now on); returns its consistent point.
uint64_t pg_create_slot(const PeerSpec& peer, const std::string& slot);

class PgChangeStream final : public ChangeStream {
 public:
  // Starts streaming `slot` from `start` (0: from the slot's confirmed position).
  // Throws Error(SourceLost) when the slot does not exist.
  PgChangeStream(const PeerSpec& peer, const std::string& slot, const std::string& publication, uint64_t start);
  ~PgChangeStream() override;

  bool next(ChangeEvent& event, std::chrono::milliseconds timeout) override;
  void acknowledge(uint64_t position) override;
  // A standby status update with reply requested: the server answers with a keepalive.
  void request_heartbeat() override { send_status(true); }

 private:
  bool read_copy_data(std::chrono::milliseconds timeout);
  void send_status(bool reply_requested);
  bool translate(ChangeEvent& event);

  std::unique_ptr<PgConnection> conn_;
  std::string slot_;
  char* buf_ = nullptr;
  int len_ = 0;
  uint64_t acknowledged_ = 0;
  uint64_t received_ = 0;
  std::chrono::steady_clock::time_point last_status_;
  struct Decoding;
  std::unique_ptr<Decoding> decoding_;
  uint64_t tx_version_ = 0;
};

}  // namespace ferry
