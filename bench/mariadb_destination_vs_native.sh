#!/usr/bin/env bash
# MariaDB destination benchmark, on the servers of scripts/test-servers:
#  1. MariaDB -> MariaDB snapshot of ROWS mixed-type rows into another database: `ferry run`
#     (mode snapshot) against `mariadb-dump --no-create-info --quick | mariadb` into an
#     identical empty table (the native copy).
#  2. PostgreSQL -> MariaDB snapshot of the same rows: `ferry run` alone (no native tool
#     crosses the two), rows/s.
#  3. CDC apply of CHANGES binlogged row changes (half inserts, half updates, 1000 rows per
#     transaction) MariaDB -> MariaDB: ferry's catch-up to its checkpoint.
# Ratio = native time / ferry time. Prints figures; asserts nothing (speed is never a test).
#   bench/mariadb_destination_vs_native.sh [ROWS] [CHANGES]      (defaults 1000000, 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
CHANGES=${2:-200000}
PARALLELISM=${FERRY_BENCH_PARALLELISM:-4}

source bench/common.sh
my() { mariadb --no-defaults -h"$FERRY_TEST_MYSQL_HOST" -P"$FERRY_TEST_MYSQL_PORT" -u"$FERRY_TEST_MYSQL_USER" "$@"; }
db=ferry_mydst_$$
work=$(mktemp -d /tmp/ferry-mydst.XXXXXX)
ferry_pid=""
cleanup() {
  [[ -n "$ferry_pid" ]] && kill "$ferry_pid" 2>/dev/null && wait "$ferry_pid" 2>/dev/null
  for d in "$db" "${db}_ferry" "${db}_native" "${db}_pg" "${db}_cdc"; do my -e "DROP DATABASE IF EXISTS $d" 2>/dev/null || true; done
  psql "$FERRY_TEST_PG_DSN" -qc "DROP DATABASE IF EXISTS ${db}_src WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap 'cleanup; stop_own_servers' EXIT
secs() { echo "$2 - $1" | bc -l; }
ddl="CREATE TABLE mixed (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(12,2), ratio DOUBLE,
  status ENUM('new','paid','shipped','returned'), note VARCHAR(64), created DATE, uid CHAR(36), seen_at DATETIME)"

echo "== generating $ROWS rows of mixed types (MariaDB and PostgreSQL)" >&2
my -e "SET SESSION sql_log_bin = 0; CREATE DATABASE $db; CREATE DATABASE ${db}_native; USE $db; $ddl;
INSERT INTO mixed SELECT seq, (seq * 7919) % 100000, (seq % 100000) / 100, seq / 7, 1 + seq % 4,
  CONCAT('note ', MD5(seq)), '2000-01-01' + INTERVAL (seq % 9000) DAY, UUID(),
  '2020-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_$ROWS;
ANALYZE TABLE mixed; USE ${db}_native; $ddl;" >/dev/null
psql "$FERRY_TEST_PG_DSN" -qc "CREATE DATABASE ${db}_src"
pg_mixed_table "${db}_src" "$ROWS"

peer() { echo "{ type: mysql, host: \"$FERRY_TEST_MYSQL_HOST\", port: $FERRY_TEST_MYSQL_PORT, user: \"$FERRY_TEST_MYSQL_USER\", database: $1 }"; }
cat > "$work/ferry.yaml" <<YAML
peers:
  src: $(peer "$db")
  pg: { type: postgres, dsn: "$FERRY_TEST_PG_DSN dbname=${db}_src" }
  dst: $(peer "${db}_ferry")
  pgdst: $(peer "${db}_pg")
  cdcdst: $(peer "${db}_cdc")
pipes:
  mymy: { source: src, destination: dst, mode: snapshot, tables: [ $db.mixed ],
          settings: { snapshot_parallelism: $PARALLELISM, snapshot_rows_per_partition: 250000 } }
  pgmy: { source: pg, destination: pgdst, mode: snapshot, tables: [ public.mixed ],
          settings: { snapshot_parallelism: $PARALLELISM, snapshot_rows_per_partition: 250000 } }
YAML
run_snapshot() {  # pipe -> seconds
  local t0 t1
  t0=$(now)
  /usr/bin/time -f "%M" -o "$work/rss-$1" build/ferry run -f "$work/ferry.yaml" --pipe "$1" --catalog "sqlite:$work/$1.db" \
    --no-progress >/dev/null 2>>"$work/ferry.log" || { tail -5 "$work/ferry.log" >&2; exit 1; }
  t1=$(now)
  secs "$t0" "$t1"
}
echo "== ferry MariaDB -> MariaDB snapshot (parallelism $PARALLELISM)" >&2
mymy_s=$(run_snapshot mymy)
mymy_rows=$(my -N -e "SELECT COUNT(*) FROM ${db}_ferry.mixed")
echo "== native: mariadb-dump --no-create-info --quick | mariadb" >&2
t0=$(now)
mariadb-dump --no-defaults -h"$FERRY_TEST_MYSQL_HOST" -P"$FERRY_TEST_MYSQL_PORT" -u"$FERRY_TEST_MYSQL_USER" \
  --no-create-info --quick --skip-lock-tables "$db" mixed | my "${db}_native"
t1=$(now)
native_s=$(secs "$t0" "$t1")
native_rows=$(my -N -e "SELECT COUNT(*) FROM ${db}_native.mixed")
echo "== ferry PostgreSQL -> MariaDB snapshot" >&2
pgmy_s=$(run_snapshot pgmy)
pgmy_rows=$(my -N -e "SELECT COUNT(*) FROM ${db}_pg.mixed")

echo "== CDC: ferry streaming MariaDB -> MariaDB, $CHANGES changes written while it is stopped" >&2
cat >> "$work/ferry.yaml" <<YAML
  cdc: { source: src, destination: cdcdst, mode: cdc, tables: [ $db.events ],
         settings: { batch_size: 100000, sync_interval: 200ms } }
YAML
my "$db" -e "CREATE TABLE events (id BIGINT PRIMARY KEY, kind VARCHAR(10), amount DECIMAL(12,2), payload VARCHAR(40))"
start_ferry() {
  build/ferry run -f "$work/ferry.yaml" --pipe cdc --catalog "sqlite:$work/cdc.db" --no-progress >>"$work/ferry-cdc.log" 2>&1 &
  ferry_pid=$!
}
stop_ferry() { kill -TERM "$ferry_pid"; wait "$ferry_pid" || true; ferry_pid=""; }
checkpoint() { build/ferry pipe status cdc --catalog "sqlite:$work/cdc.db" --output json 2>/dev/null | sed -n 's/.*"checkpoint": "\([^"]*\)".*/\1/p'; }
start_ferry
for _ in $(seq 150); do [[ -n "$(checkpoint)" ]] && break; sleep 0.2; done
stop_ferry
half=$((CHANGES / 2))
for ((b = 0; b < half / 1000; b++)); do
  echo "INSERT INTO events SELECT seq, CONCAT('k', seq % 10), seq % 1000, MD5(seq) FROM seq_$((b * 1000 + 1))_to_$((b * 1000 + 1000));"
done | my "$db"
for ((b = 0; b < half / 1000; b++)); do
  echo "UPDATE events SET amount = amount + 1, kind = 'u' WHERE id BETWEEN $((b * 1000 + 1)) AND $((b * 1000 + 1000));"
done | my "$db"
src_sum=$(my -N "$db" -e "SELECT CONCAT(COUNT(*), ' rows, ', SUM(amount)) FROM events")
t0=$(now)
start_ferry
until [[ "$(my -N -e "SELECT CONCAT(COUNT(*), ' rows, ', SUM(amount)) FROM ${db}_cdc.events" 2>/dev/null)" == "$src_sum" ]]; do
  sleep 0.05
done
t1=$(now)
cdc_s=$(secs "$t0" "$t1")
stop_ferry

printf '\nMariaDB destination, %s\n' "$(my -N -e 'SELECT VERSION()')"
printf 'snapshot of %s rows:\n' "$ROWS"
printf '  %-44s %8.2f s %10.0f rows/s  rows=%s  peak RSS %s MB\n' "ferry MariaDB -> MariaDB" "$mymy_s" \
  "$(echo "$ROWS / $mymy_s" | bc -l)" "$mymy_rows" "$(( $(tail -1 "$work/rss-mymy") / 1024 ))"
printf '  %-44s %8.2f s %10.0f rows/s  rows=%s\n' "mariadb-dump --no-create-info --quick | mariadb" "$native_s" \
  "$(echo "$ROWS / $native_s" | bc -l)" "$native_rows"
printf '  ratio (native time / ferry time): %.2f\n' "$(echo "$native_s / $mymy_s" | bc -l)"
printf '  %-44s %8.2f s %10.0f rows/s  rows=%s\n' "ferry PostgreSQL -> MariaDB" "$pgmy_s" \
  "$(echo "$ROWS / $pgmy_s" | bc -l)" "$pgmy_rows"
printf 'CDC apply of %s changes MariaDB -> MariaDB (ferry start included):\n' "$CHANGES"
printf '  %-44s %8.2f s %10.0f changes/s  (%s)\n' "ferry catch-up" "$cdc_s" "$(echo "$CHANGES / $cdc_s" | bc -l)" "$src_sum"
