#!/usr/bin/env bash
# MariaDB binlog reading: ferry's change stream (bench/mysql_stream_bench) against
# `mariadb-binlog --read-from-remote-server` printing the same binlog range to /dev/null.
# ROWS (default 1M) row changes of a mixed table in transactions of 1000 rows.
# Ratio = mariadb-binlog time / ferry time (higher is better for ferry).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rows=${1:-1000000}
source bench/common.sh
trap stop_own_servers EXIT
[[ -x build/bench/mysql_stream_bench ]] || cmake --build build --target mysql_stream_bench
my() { mariadb --no-defaults -h"$FERRY_TEST_MYSQL_HOST" -P"$FERRY_TEST_MYSQL_PORT" -u"$FERRY_TEST_MYSQL_USER" "$@"; }
pos() { my -N -e 'SHOW MASTER STATUS' | awk '{print $1 ":" $2}'; }

my -e "DROP DATABASE IF EXISTS ferry_bench; CREATE DATABASE ferry_bench;
CREATE TABLE ferry_bench.t (id BIGINT PRIMARY KEY, n INT, amount DECIMAL(12,2), f DOUBLE, v VARCHAR(40),
  at DATETIME(6), d DATE)"
from=$(pos)
for ((i = 0; i < rows; i += 100000)); do
  n=$(( rows - i < 100000 ? rows - i : 100000 ))
  # 1000-row transactions (one INSERT each), 100 per batch
  sql="USE ferry_bench;"
  for ((k = 0; k < n; k += 1000)); do
    sql+="INSERT INTO ferry_bench.t SELECT seq, seq % 1000, seq / 100, seq / 7, CONCAT('row ', seq),
      '2024-01-01 00:00:00' + INTERVAL seq SECOND, '2024-01-01' + INTERVAL (seq % 3000) DAY
      FROM seq_$((i + k + 1))_to_$((i + k + 1000));"
  done
  my -e "$sql"
done
to=$(pos)
echo "binlog $from .. $to, $rows rows"

t0=$(now)
build/bench/mysql_stream_bench "$FERRY_TEST_MYSQL_HOST" "$FERRY_TEST_MYSQL_PORT" "$FERRY_TEST_MYSQL_USER" \
  ferry_bench.t "$from" "$to"
t1=$(now)
# mariadb-binlog reads one file per argument; the range here stays in one file unless it rotated.
file=${from%%:*}
mariadb-binlog --read-from-remote-server -h"$FERRY_TEST_MYSQL_HOST" -P"$FERRY_TEST_MYSQL_PORT" \
  -u"$FERRY_TEST_MYSQL_USER" --start-position="${from##*:}" --to-last-log "$file" -v >/dev/null
t2=$(now)
mariadb-binlog --read-from-remote-server -h"$FERRY_TEST_MYSQL_HOST" -P"$FERRY_TEST_MYSQL_PORT" \
  -u"$FERRY_TEST_MYSQL_USER" --start-position="${from##*:}" --to-last-log "$file" >/dev/null
t3=$(now)
python3 - "$t0" "$t1" "$t2" "$t3" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:])
print(f"ferry (stream + in-memory decode run) {t1 - t0:.2f} s")
print(f"mariadb-binlog -v (rows rendered as pseudo-SQL) {t2 - t1:.2f} s")
print(f"mariadb-binlog (base64 rows, not decoded) {t3 - t2:.2f} s")
PY
my -e "DROP DATABASE ferry_bench"
