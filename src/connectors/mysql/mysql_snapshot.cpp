#include "connectors/mysql/mysql_snapshot.h"

#include <atomic>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"

namespace ferry::mysql {

namespace {

// binlog_snapshot_file/position of a connection's consistent snapshot (MariaDB).
BinlogPosition snapshot_status(MysqlConnection& c) {
  BinlogPosition p;
  for (const Row& r : c.rows("SHOW STATUS LIKE 'binlog_snapshot_%'")) {
    if (r.size() < 2 || !r[0] || !r[1]) continue;
    if (*r[0] == "Binlog_snapshot_file") p.file = *r[1];
    if (*r[0] == "Binlog_snapshot_position") p.offset = std::stoull(*r[1]);
  }
  return p;
}

BinlogPosition master_status(MysqlConnection& c) {
  bool new_syntax = !c.is_mariadb() && c.server_version_number() >= 80200;
  std::optional<Row> r = c.first_row(new_syntax ? "SHOW BINARY LOG STATUS" : "SHOW MASTER STATUS");
  BinlogPosition p;
  if (r && r->size() >= 2 && (*r)[0] && (*r)[1]) {
    p.file = *(*r)[0];
    p.offset = std::stoull(*(*r)[1]);
  }
  return p;
}

}  // namespace

MysqlSnapshotPoint::MysqlSnapshotPoint(const PeerSpec& peer, int connections, int max_attempts) {
  int n = std::max(1, connections);
  std::vector<std::unique_ptr<MysqlConnection>> conns;
  for (int i = 0; i < n; ++i) {
    conns.push_back(MysqlConnection::open(peer));
    conns.back()->exec("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
  }
  // Without a binary log there is no position to compare: the lock makes the point.
  bool compare = conns[0]->is_mariadb() && conns[0]->value("SELECT @@global.log_bin") == "1";
  if (compare) {
    for (int attempt = 1; attempt <= max_attempts; ++attempt) {
      if (open_all(peer, conns, false)) {
        attempts_ = attempt;
        return;
      }
    }
    if (max_attempts > 0)
      spdlog::info("MariaDB at {}:{}: commits kept landing between the snapshot's {} connections; opening them "
                   "under a brief FLUSH TABLES WITH READ LOCK", peer.host, peer.port, n);
  }
  try {
    if (!open_all(peer, conns, true))
      throw Error(ErrorKind::Transient, "MariaDB/MySQL: the snapshot's connections disagree even under the read lock");
    attempts_ = 0;
  } catch (const Error& e) {
    // No RELOAD privilege: one connection is always consistent with itself; partitions
    // are then read one at a time.
    if (e.kind() != ErrorKind::Permanent || !compare || conns.size() == 1) throw;
    spdlog::warn("MariaDB at {}:{}: {}; the snapshot reads through one connection (partitions one at a time)",
                 peer.host, peer.port, e.what());
    conns.resize(1);
    if (!open_all(peer, conns, false))
      throw Error(ErrorKind::Transient, "MariaDB/MySQL: one snapshot connection disagrees with itself");
    attempts_ = -1;
  }
}

bool MysqlSnapshotPoint::open_all(const PeerSpec& peer, std::vector<std::unique_ptr<MysqlConnection>>& conns,
                                  bool locked) {
  const size_t n = conns.size();
  std::unique_ptr<MysqlConnection> lock;
  if (locked) {
    lock = MysqlConnection::open(peer);
    try {
      // A long statement on a table makes the flush wait: give up (Transient, retried) rather than hang.
      lock->exec("SET SESSION lock_wait_timeout = 30");
      lock->exec("FLUSH TABLES WITH READ LOCK");
    } catch (const Error& e) {
      throw Error(e.kind() == ErrorKind::Transient ? ErrorKind::Transient : ErrorKind::Permanent,
                  std::string("cannot open a consistent snapshot for parallel reads: FLUSH TABLES WITH READ LOCK "
                              "failed (grant RELOAD to the pipe's user, or set snapshot_parallelism: 1): ") +
                      e.what());
    }
  }
  // All transactions start at once (one thread each), so that a commit rarely lands
  // between them.
  std::vector<BinlogPosition> positions(n);
  std::vector<std::exception_ptr> errors(n);
  std::atomic<size_t> ready{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < n) std::this_thread::yield();
      try {
        conns[i]->exec("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
        if (conns[i]->is_mariadb()) positions[i] = snapshot_status(*conns[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  if (locked) {
    BinlogPosition p = master_status(*lock);
    if (p.file.empty()) p = positions[0];
    for (auto& q : positions) q = p;
    lock->exec("UNLOCK TABLES");
  }
  for (const auto& p : positions)
    if (!(p == positions[0])) {
      for (auto& c : conns) c->exec("ROLLBACK");
      return false;
    }
  binlog_ = positions[0];
  id_ = binlog_.file.empty() ? "no-binlog" : binlog_.to_string();
  position_ = binlog_.file.empty() ? 0 : binlog_.version();
  free_ = std::move(conns);
  alive_ = static_cast<int>(n);
  return true;
}

MysqlSnapshotPoint::~MysqlSnapshotPoint() = default;

std::unique_ptr<MysqlSnapshotPoint::Lease> MysqlSnapshotPoint::borrow() const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !free_.empty() || alive_ == 0; });
  if (alive_ == 0)
    throw Error(ErrorKind::Transient, fmt::format("MariaDB/MySQL snapshot {}: every connection of the snapshot was "
                                                  "lost; the load restarts on a new snapshot", id_));
  std::unique_ptr<MysqlConnection> c = std::move(free_.back());
  free_.pop_back();
  return std::make_unique<Lease>(*this, std::move(c));
}

void MysqlSnapshotPoint::give_back(std::unique_ptr<MysqlConnection> c, bool broken) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken) --alive_;
    else free_.push_back(std::move(c));
  }
  cv_.notify_one();
  // A broken connection closes here, outside the lock.
}

MysqlSnapshotPoint::Lease::~Lease() { point_.give_back(std::move(conn_), broken_); }

}  // namespace ferry::mysql
