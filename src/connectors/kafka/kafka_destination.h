// Destination peer type `kafka`: every row change becomes one message on the table's topic
// (envelope.h for the JSON), keyed by the primary key so that all changes of a key land in
// one partition in commit order; deletes are followed by a tombstone (null value).
//
// Delivery: load_snapshot and apply_changes return only after the broker acknowledged every
// message they produced (acks=all, idempotent producer), so the runner's checkpoint moves only
// past acknowledged messages. At-least-once: after a crash the changes since the checkpoint
// are produced again, with the same source.position, so consumers can drop what they applied.
//
// Capabilities: apply_changes only. Kafka keeps a log, not tables: no stale-row deletes and no
// table admin, so resync (which swaps tables) is refused; reset without clearing republishes
// the snapshot (op r) into the same topics; clearing topics (truncate) is refused, topics are
// never deleted (drop_table keeps them).
//
// Thread safety: as Destination; load_snapshot runs on several threads over one producer.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "connectors/api/destination.h"
#include "connectors/kafka/kafka_settings.h"

namespace ferry::kafka {

class KafkaClient;

class KafkaDestination : public Destination {
 public:
  static constexpr DestinationCapabilities kCapabilities{.apply_changes = true, .stale_rows = false, .table_admin = false, .republishes = true};

  explicit KafkaDestination(const PeerSpec& peer);
  ~KafkaDestination() override;

  DestinationCapabilities capabilities() const override { return kCapabilities; }
  std::string server_version() override;
  void ensure_table(const TableSchema& source, const DestinationTable& table) override;
  int64_t load_snapshot(const TableSchema& source, const DestinationTable& table, CopyStream& rows,
                        uint64_t version) override;
  void apply_changes(const ChangeBatch& batch) override;
  void add_missing_columns(const TableSchema& source, const DestinationTable& table) override {}  // JSON: nothing to add
  int64_t count_rows(const DestinationTable& table) override { return 0; }  // a log has no row count
  void drop_table(const std::string& table) override;                    // topics are kept
  bool table_exists(const std::string& table) override;
  void truncate_table(const std::string& table) override;
  void check_table(const TableSchema& source, const DestinationTable& table) override;
  // The highest source.position among the last messages of each partition of the table's
  // topic (0 when empty), so that an incremental pipe's first run publishes above it.
  uint64_t max_version(const DestinationTable& table) override;
  void precheck(const PipeSpec& pipe, bool new_pipe, std::vector<CheckResult>& out) override;

  // The topic of a source table (schema may be empty) landing as `destination`.
  std::string topic_for(const std::string& schema, const std::string& table, const std::string& destination) const;

 private:
  std::shared_ptr<KafkaClient> client();
  // The topic of a batch table; its source schema comes from the pipe's name or an earlier ensure_table.
  std::string topic_of(const ChangeTable& t, std::string& source_name);

  std::string peer_name_;
  KafkaSettings settings_;
  std::mutex mu_;
  std::shared_ptr<KafkaClient> client_;
  std::map<std::string, std::string> schema_of_;   // destination table -> source schema (ensure_table)
  std::map<std::string, std::string> topic_of_;    // destination table -> its topic (ensure_table)
  std::map<std::string, int> partitions_;          // topic -> partition count (truncate events)
};

}  // namespace ferry::kafka
