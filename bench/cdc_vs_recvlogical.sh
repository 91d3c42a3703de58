#!/usr/bin/env bash
# CDC benchmark, PostgreSQL -> ClickHouse.
#  1. Catch-up throughput: 1M row changes are written while ferry is stopped;
#     then ferry streams them from its slot into ClickHouse. Compared with
#     pg_recvlogical reading the same changes from a second slot to /dev/null
#     (the server's decoding limit). Ratio = ferry rows/s / pg_recvlogical rows/s.
#  2. End-to-end lag at a steady 5k changes/s (pgbench --rate): marker rows are
#     inserted every 250 ms and timed until visible in ClickHouse (FINAL); p50/p99.
# Prints figures; asserts nothing.
#   bench/cdc_vs_recvlogical.sh [CHANGES] [LAG_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
CHANGES=${1:-1000000}
LAG_SECONDS=${2:-30}
PGBIN=/usr/lib/postgresql/15/bin

source bench/common.sh

db=ferry_cdcbench_$$
work=$(mktemp -d /tmp/ferry-cdcbench.XXXXXX)
dsn="$FERRY_TEST_PG_DSN dbname=$db"
ferry_pid=""
cleanup() {
  [[ -n "$ferry_pid" ]] && kill "$ferry_pid" 2>/dev/null && wait "$ferry_pid" 2>/dev/null
  psql_db -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '$db' AND NOT active" >/dev/null 2>&1 || true
  psql "$FERRY_TEST_PG_DSN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  ch "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap 'cleanup; stop_own_servers' EXIT

psql "$FERRY_TEST_PG_DSN" -qc "CREATE DATABASE $db"
psql_db -c "CREATE TABLE events (id bigint PRIMARY KEY, kind text, amount numeric(12,2), payload text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp())"
cat > "$work/ferry.yaml" <<YAML
peers:
  src: { type: postgres, dsn: "$dsn" }
  dst: { type: clickhouse, url: "$FERRY_TEST_CH_URL", database: $db }
pipes:
  bench:
    source: src
    destination: dst
    mode: cdc
    tables: [ public.events ]
    settings: { batch_size: 100000, sync_interval: 200ms }
YAML
start_ferry() {
  build/ferry run -f "$work/ferry.yaml" --catalog "sqlite:$work/ferry.db" --no-progress >>"$work/ferry.log" 2>&1 &
  ferry_pid=$!
}
stop_ferry() { kill -TERM "$ferry_pid"; wait "$ferry_pid" || true; ferry_pid=""; }
checkpoint() { build/ferry pipe status bench --catalog "sqlite:$work/ferry.db" --output json | sed -n 's/.*"checkpoint": "\([^"]*\)".*/\1/p'; }

echo "== creating the stream (ferry, mode cdc) and a pg_recvlogical slot at the same point" >&2
start_ferry
for _ in $(seq 100); do [[ -n "$(checkpoint)" ]] && break; sleep 0.2; done
stop_ferry
psql_db -c "SELECT pg_create_logical_replication_slot('bench_recv_$$', 'pgoutput')" >/dev/null

echo "== writing $CHANGES row changes (half inserts, half updates, 1000 rows per transaction)" >&2
half=$((CHANGES / 2))
psql_db <<SQL
DO \$\$ BEGIN
  FOR b IN 0 .. ($half / 1000) - 1 LOOP
    INSERT INTO events (id, kind, amount, payload)
      SELECT g, 'k' || (g % 10), g % 1000, md5(g::text) FROM generate_series(b * 1000 + 1, b * 1000 + 1000) g;
    COMMIT;
  END LOOP;
  FOR b IN 0 .. ($half / 1000) - 1 LOOP
    UPDATE events SET amount = amount + 1, kind = 'u' WHERE id BETWEEN b * 1000 + 1 AND b * 1000 + 1000;
    COMMIT;
  END LOOP;
END \$\$;
SQL
end_lsn=$(psql_db -c "SELECT pg_current_wal_lsn()")

echo "== pg_recvlogical to /dev/null up to $end_lsn" >&2
t0=$(now)
"$PGBIN/pg_recvlogical" -d "$dsn" -S "bench_recv_$$" --start -o proto_version=1 -o publication_names=ferry_bench \
  --endpos="$end_lsn" -f /dev/null --no-loop
t1=$(now)
recv_s=$(echo "$t1 - $t0" | bc -l)
psql_db -c "SELECT pg_drop_replication_slot('bench_recv_$$')" >/dev/null

echo "== ferry catching up to $end_lsn" >&2
lsn_num() { psql_db -c "SELECT pg_wal_lsn_diff('$1', '0/0')::bigint"; }
target=$(lsn_num "$end_lsn")
t0=$(now)
start_ferry
while :; do
  cp=$(checkpoint)
  [[ -n "$cp" && $(lsn_num "$cp") -ge $target ]] && break
  sleep 0.05
done
t1=$(now)
ferry_s=$(echo "$t1 - $t0" | bc -l)
# ferry's own CPU time (user + system) for the catch-up: unlike wall time, barely moved by other load.
ferry_cpu=$(awk -v tck="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / tck }' "/proc/$ferry_pid/stat")
rows=$(ch "SELECT count() FROM $db.events FINAL")

echo "== lag at a steady 5000 changes/s for ${LAG_SECONDS}s" >&2
cat > "$work/load.sql" <<'SQL'
\set base random(1, 1000000000)
INSERT INTO events (id, kind, amount, payload) SELECT 2000000000::bigint + :base::bigint * 100 + g, 'load', g, 'x' FROM generate_series(0, 99) g ON CONFLICT DO NOTHING;
SQL
"$PGBIN/pgbench" -n -f "$work/load.sql" --rate=50 -T "$LAG_SECONDS" -c 2 -j 1 "$dsn" >"$work/pgbench.log" 2>&1 &
load_pid=$!
sleep 2
lags=()
marker=1
end=$(( $(date +%s) + LAG_SECONDS - 4 ))
while (( $(date +%s) < end )); do
  id=$((900000000 + marker)); marker=$((marker + 1))
  t0=$(now)
  psql_db -c "INSERT INTO events (id, kind) VALUES ($id, 'marker')"
  until [[ "$(ch "SELECT count() FROM $db.events WHERE id = $id")" == "1" ]]; do sleep 0.01; done
  t1=$(now)
  lags+=("$(echo "$t1 - $t0" | bc -l)")
  sleep 0.25
done
wait "$load_pid" || true
stop_ferry
sorted=$(printf '%s\n' "${lags[@]}" | sort -g)
n=${#lags[@]}
p50=$(sed -n "$(( (n * 50 + 99) / 100 ))p" <<<"$sorted")
p99=$(sed -n "$(( (n * 99 + 99) / 100 ))p" <<<"$sorted")
load_tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.log" | head -1)

printf '\nCDC PostgreSQL 15 -> ClickHouse %s\n' "$(ch 'SELECT version()')"
printf '%-36s %8.2f s %12.0f changes/s\n' "pg_recvlogical -> /dev/null" "$recv_s" "$(echo "$CHANGES / $recv_s" | bc -l)"
printf '%-36s %8.2f s %12.0f changes/s  (rows in ClickHouse: %s)\n' "ferry catch-up into ClickHouse" "$ferry_s" \
  "$(echo "$CHANGES / $ferry_s" | bc -l)" "$rows"
printf '%-36s %8.2f s CPU (user + system), %.0f ns/change\n' "ferry's process during the catch-up" "$ferry_cpu" \
  "$(echo "$ferry_cpu * 1000000000 / $CHANGES" | bc -l)"
printf 'throughput ratio (ferry / pg_recvlogical): %.2f  (target >= 0.7)\n' "$(echo "$recv_s / $ferry_s" | bc -l)"
printf 'end-to-end lag at %s changes/s (%d markers): p50 %.3f s, p99 %.3f s  (target p99 < 2 s)\n' \
  "$(echo "${load_tps:-0} * 100" | bc -l | cut -d. -f1)" "$n" "$p50" "$p99"
