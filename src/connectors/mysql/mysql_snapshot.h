// One consistent point of a MariaDB / MySQL server for a whole initial load, held by a
// pool of connections that all read the same snapshot.
//
// MariaDB: each connection runs START TRANSACTION WITH CONSISTENT SNAPSHOT (all at
// once, a thread each) and reads
// binlog_snapshot_file/position (SHOW STATUS), which MariaDB takes atomically with the
// read view (under the binlog's commit ordering). Transactional engines commit in binlog
// order, so two read views at the same binlog position see the same committed
// transactions: when every connection reports the same position they share one point.
// Under writes a commit may land between two starts; then all are rolled back and
// started again (kOpenAttempts times), and after that the pool opens under a brief FLUSH
// TABLES WITH READ LOCK (released as soon as the transactions are open; needs RELOAD).
// Without RELOAD the point keeps one connection (partitions are read one at a time).
// MySQL 8 (untested here): always the lock, position from SHOW MASTER STATUS (SHOW BINARY
// LOG STATUS from 8.2).
//
// position() is the packed binlog version of the point (BinlogPosition::version()); id()
// is "file:offset". Thread-safe: borrow() hands each caller a connection of its own,
// waiting while all are borrowed.
#pragma once
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/api/source.h"
#include "connectors/mysql/binlog_position.h"
#include "connectors/mysql/mysql_connection.h"
#include "core/spec.h"

namespace ferry::mysql {

class MysqlSnapshotPoint final : public SnapshotPoint {
 public:
  // Lock-free attempts by default: none. Equal binlog_snapshot_position values did not
  // prove equal views under concurrent autocommit inserts on MariaDB 10.11 (one of six
  // connections saw one more row, MysqlSnapshotPoint.ConnectionsAgree), so points open
  // under the brief read lock, which waits for commits in flight.
  static constexpr int kOpenAttempts = 0;

  // Opens `connections` (>= 1) connections at one point. Throws Transient when the server
  // cannot be reached, Permanent when the lock fallback is needed and not permitted, or
  // when the server has no binary log and the lock is refused.
  // `attempts`: how often to try without the lock (tests pass 0 to go straight to it).
  MysqlSnapshotPoint(const PeerSpec& peer, int connections, int attempts = kOpenAttempts);
  ~MysqlSnapshotPoint() override;

  const std::string& id() const override { return id_; }
  uint64_t position() const override { return position_; }
  const BinlogPosition& binlog_position() const { return binlog_; }
  // How the point was opened: attempts without lock (1.. kOpenAttempts), 0 under the
  // lock, -1 reduced to one connection (the lock was refused).
  int attempts() const { return attempts_; }
  int connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return alive_;
  }

  // A connection inside the snapshot's transaction; returned to the pool on destruction.
  // A lease that is dropped with `broken()` set closes its connection instead.
  class Lease {
   public:
    Lease(const MysqlSnapshotPoint& p, std::unique_ptr<MysqlConnection> c) : point_(p), conn_(std::move(c)) {}
    ~Lease();
    MysqlConnection& conn() { return *conn_; }
    void set_broken() { broken_ = true; }

   private:
    const MysqlSnapshotPoint& point_;
    std::unique_ptr<MysqlConnection> conn_;
    bool broken_ = false;
  };
  // Waits for a free connection. Throws Transient when every connection of the pool was
  // lost (the load restarts on a new point).
  std::unique_ptr<Lease> borrow() const;

 private:
  // Starts a transaction on each connection at once; true (and the pool is theirs) when
  // they agree on the position, else rolled back.
  bool open_all(const PeerSpec& peer, std::vector<std::unique_ptr<MysqlConnection>>& conns, bool locked);
  void give_back(std::unique_ptr<MysqlConnection> c, bool broken) const;

  std::string id_;
  uint64_t position_ = 0;
  BinlogPosition binlog_;
  int attempts_ = 0;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::vector<std::unique_ptr<MysqlConnection>> free_;
  mutable int alive_ = 0;
};

}  // namespace ferry::mysql
