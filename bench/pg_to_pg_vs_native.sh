#!/usr/bin/env bash
# PostgreSQL -> PostgreSQL benchmark, both databases on the same server.
#  1. Snapshot of ROWS rows of mixed types: `ferry run` (mode snapshot) against
#     `pg_dump --data-only | psql` and against `psql COPY TO STDOUT | psql COPY FROM STDIN`
#     into an identical empty table. Ratio = native time / ferry time.
#  2. CDC apply of CHANGES row changes written while the replicas are stopped (half
#     inserts, half updates, 1000 rows per transaction): ferry's catch-up (to its
#     checkpoint) against PostgreSQL's own publication/subscription catching up from its
#     slot (until the subscription's slot confirmed the end LSN and the rows are there).
#     Ratio = native time / ferry time.
# Prints figures; asserts nothing (speed is never a test).
#   bench/pg_to_pg_vs_native.sh [ROWS] [CHANGES]      (defaults 10000000, 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
CHANGES=${2:-1000000}
PARALLELISM=${FERRY_BENCH_PARALLELISM:-4}
PGBIN=/usr/lib/postgresql/15/bin

source bench/common.sh

src=ferry_pgpg_src_$$
work=$(mktemp -d /tmp/ferry-pgpg.XXXXXX)
ferry_pid=""
pg() { local d=$1; shift; psql "$FERRY_TEST_PG_DSN dbname=$d" -v ON_ERROR_STOP=1 -qtA "$@"; }
cleanup() {
  [[ -n "$ferry_pid" ]] && kill "$ferry_pid" 2>/dev/null && wait "$ferry_pid" 2>/dev/null
  for d in ${src}_sub; do pg "$d" -c "DROP SUBSCRIPTION IF EXISTS bench_sub" >/dev/null 2>&1 || true; done
  pg "$src" -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '$src' AND NOT active" \
    >/dev/null 2>&1 || true
  for d in "$src" "${src}_ferry" "${src}_dump" "${src}_copy" "${src}_cdc" "${src}_sub"; do
    psql "$FERRY_TEST_PG_DSN" -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap 'cleanup; stop_own_servers' EXIT
secs() { echo "$2 - $1" | bc -l; }

for d in "$src" "${src}_ferry" "${src}_dump" "${src}_copy" "${src}_cdc" "${src}_sub"; do
  psql "$FERRY_TEST_PG_DSN" -qc "CREATE DATABASE $d"
done
ddl="CREATE TABLE mixed (id bigint PRIMARY KEY, customer_id integer NOT NULL, amount numeric(12,2),
  ratio double precision, status text, note varchar(64), created date, uid uuid, seen_at timestamp)"

echo "== generating $ROWS rows of mixed types" >&2
pg_mixed_table "$src" "$ROWS"
bytes=$(pg "$src" -c "SELECT pg_table_size('mixed')")

cat > "$work/snapshot.yaml" <<YAML
peers:
  src: { type: postgres, dsn: "$FERRY_TEST_PG_DSN dbname=$src" }
  dst: { type: postgres, dsn: "$FERRY_TEST_PG_DSN dbname=${src}_ferry" }
pipes:
  snap:
    source: src
    destination: dst
    mode: snapshot
    tables: [ public.mixed ]
    settings: { snapshot_parallelism: $PARALLELISM, snapshot_rows_per_partition: 500000 }
YAML
echo "== ferry snapshot (parallelism $PARALLELISM)" >&2
t0=$(now)
/usr/bin/time -f "%M" -o "$work/rss" build/ferry run -f "$work/snapshot.yaml" --catalog "sqlite:$work/snap.db" \
  --no-progress >/dev/null 2>"$work/ferry-snapshot.log"
t1=$(now)
ferry_snap=$(secs "$t0" "$t1")
ferry_snap_rows=$(pg "${src}_ferry" -c "SELECT count(*) FROM mixed")
rss_mb=$(( $(cat "$work/rss") / 1024 ))

echo "== pg_dump --data-only | psql" >&2
pg "${src}_dump" -c "$ddl"
t0=$(now)
"$PGBIN/pg_dump" --data-only --table=public.mixed "$FERRY_TEST_PG_DSN dbname=$src" |
  psql "$FERRY_TEST_PG_DSN dbname=${src}_dump" -v ON_ERROR_STOP=1 -q >/dev/null
t1=$(now)
dump_s=$(secs "$t0" "$t1")

echo "== psql COPY TO STDOUT | psql COPY FROM STDIN" >&2
pg "${src}_copy" -c "$ddl"
t0=$(now)
psql "$FERRY_TEST_PG_DSN dbname=$src" -qc "COPY mixed TO STDOUT" |
  psql "$FERRY_TEST_PG_DSN dbname=${src}_copy" -v ON_ERROR_STOP=1 -qc "COPY mixed FROM STDIN"
t1=$(now)
copy_s=$(secs "$t0" "$t1")
copy_rows=$(pg "${src}_copy" -c "SELECT count(*) FROM mixed")

echo "== CDC: a table for the changes, ferry's stream and a subscription at the same point" >&2
pg "$src" -c "CREATE TABLE events (id bigint PRIMARY KEY, kind text, amount numeric(12,2), payload text)"
pg "${src}_sub" -c "CREATE TABLE events (id bigint PRIMARY KEY, kind text, amount numeric(12,2), payload text)"
cat > "$work/cdc.yaml" <<YAML
peers:
  src: { type: postgres, dsn: "$FERRY_TEST_PG_DSN dbname=$src" }
  dst: { type: postgres, dsn: "$FERRY_TEST_PG_DSN dbname=${src}_cdc" }
pipes:
  cdc:
    source: src
    destination: dst
    mode: cdc
    tables: [ public.events ]
    settings: { batch_size: 100000, sync_interval: 200ms }
YAML
start_ferry() {
  build/ferry run -f "$work/cdc.yaml" --catalog "sqlite:$work/cdc.db" --no-progress >>"$work/ferry-cdc.log" 2>&1 &
  ferry_pid=$!
}
stop_ferry() { kill -TERM "$ferry_pid"; wait "$ferry_pid" || true; ferry_pid=""; }
checkpoint() { build/ferry pipe status cdc --catalog "sqlite:$work/cdc.db" --output json | sed -n 's/.*"checkpoint": "\([^"]*\)".*/\1/p'; }
start_ferry
for _ in $(seq 150); do [[ -n "$(checkpoint)" ]] && break; sleep 0.2; done
stop_ferry
# Same cluster: the subscription's slot must be made outside CREATE SUBSCRIPTION (PostgreSQL docs).
pg "$src" -c "CREATE PUBLICATION bench_pub FOR TABLE events" >/dev/null
pg "$src" -c "SELECT pg_create_logical_replication_slot('bench_sub_$$', 'pgoutput')" >/dev/null
pg "${src}_sub" -c "CREATE SUBSCRIPTION bench_sub CONNECTION '$FERRY_TEST_PG_DSN dbname=$src' PUBLICATION bench_pub
  WITH (create_slot = false, slot_name = 'bench_sub_$$', copy_data = false, enabled = false)" >/dev/null

echo "== writing $CHANGES row changes (half inserts, half updates, 1000 rows per transaction)" >&2
half=$((CHANGES / 2))
pg "$src" <<SQL
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
end_lsn=$(pg "$src" -c "SELECT pg_current_wal_lsn()")
lsn_num() { pg "$src" -c "SELECT pg_wal_lsn_diff('$1', '0/0')::bigint"; }
target=$(lsn_num "$end_lsn")

echo "== native subscription catching up to $end_lsn" >&2
t0=$(now)
pg "${src}_sub" -c "ALTER SUBSCRIPTION bench_sub ENABLE"
until [[ "$(pg "$src" -c "SELECT coalesce(pg_wal_lsn_diff(confirmed_flush_lsn, '$end_lsn') >= 0, false)
          FROM pg_replication_slots WHERE slot_name = 'bench_sub_$$'")" == "t" ]]; do sleep 0.05; done
t1=$(now)
sub_s=$(secs "$t0" "$t1")
sub_rows=$(pg "${src}_sub" -c "SELECT count(*) || ' rows, ' || sum(amount) FROM events")
pg "${src}_sub" -c "ALTER SUBSCRIPTION bench_sub DISABLE" >/dev/null

echo "== ferry catching up to $end_lsn" >&2
t0=$(now)
start_ferry
while :; do
  cp=$(checkpoint)
  [[ -n "$cp" && $(lsn_num "$cp") -ge $target ]] && break
  sleep 0.05
done
t1=$(now)
ferry_cdc=$(secs "$t0" "$t1")
ferry_cpu=$(awk -v tck="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / tck }' "/proc/$ferry_pid/stat")
stop_ferry
ferry_rows=$(pg "${src}_cdc" -c "SELECT count(*) || ' rows, ' || sum(amount) FROM events")

printf '\nPostgreSQL -> PostgreSQL, %s\n' "$(pg "$src" -c 'SELECT version()' | cut -d' ' -f1-2)"
printf 'snapshot of %s rows (%s MB):\n' "$ROWS" "$((bytes / 1048576))"
printf '  %-40s %8.2f s %10.0f rows/s  rows=%s  peak RSS %s MB\n' "ferry (parallelism $PARALLELISM)" "$ferry_snap" \
  "$(echo "$ROWS / $ferry_snap" | bc -l)" "$ferry_snap_rows" "$rss_mb"
printf '  %-40s %8.2f s %10.0f rows/s\n' "pg_dump --data-only | psql" "$dump_s" "$(echo "$ROWS / $dump_s" | bc -l)"
printf '  %-40s %8.2f s %10.0f rows/s  rows=%s\n' "psql COPY | psql COPY" "$copy_s" "$(echo "$ROWS / $copy_s" | bc -l)" "$copy_rows"
printf '  ratio vs COPY pipe: %.2f (target >= 1.2), vs pg_dump | psql: %.2f\n' \
  "$(echo "$copy_s / $ferry_snap" | bc -l)" "$(echo "$dump_s / $ferry_snap" | bc -l)"
printf 'CDC apply of %s changes:\n' "$CHANGES"
printf '  %-40s %8.2f s %10.0f changes/s  (%s)\n' "publication/subscription" "$sub_s" "$(echo "$CHANGES / $sub_s" | bc -l)" "$sub_rows"
printf '  %-40s %8.2f s %10.0f changes/s  (%s; %s s CPU)\n' "ferry catch-up" "$ferry_cdc" \
  "$(echo "$CHANGES / $ferry_cdc" | bc -l)" "$ferry_rows" "$ferry_cpu"
printf '  ratio (subscription time / ferry time): %.2f (target >= 1.5)\n' "$(echo "$sub_s / $ferry_cdc" | bc -l)"
