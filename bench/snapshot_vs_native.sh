#!/usr/bin/env bash
# Snapshot benchmark: ferry's PostgreSQL -> ClickHouse snapshot against the
# native pipeline `psql COPY | clickhouse-client INSERT ... FORMAT TabSeparated`
# on the same servers in the same run. Prints times, rows/s, the ratio
# (native time / ferry time; >= 1.0 means ferry is at least as fast) and
# ferry's peak RSS. Not a test: nothing here asserts a time.
#
#   bench/snapshot_vs_native.sh [ROWS]     (default 10000000)
# Uses running servers from scripts/test-servers when FERRY_TEST_PG_DSN is
# set, else starts its own.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
PARALLELISM=${FERRY_BENCH_PARALLELISM:-4}

source bench/common.sh
trap stop_own_servers EXIT
command -v /usr/bin/time >/dev/null || { echo "bench needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

db=ferry_bench_$$
work=$(mktemp -d /tmp/ferry-bench.XXXXXX)
ch_port=${FERRY_TEST_CH_TCP_PORT:?}

echo "== generating $ROWS rows of mixed types" >&2
psql "$FERRY_TEST_PG_DSN" -qc "CREATE DATABASE $db"
pg_mixed_table "$db" "$ROWS"
bytes=$(psql_db -c "SELECT pg_table_size('mixed')")

cat > "$work/ferry.yaml" <<YAML
peers:
  src: { type: postgres, dsn: "$FERRY_TEST_PG_DSN dbname=$db" }
  dst: { type: clickhouse, url: "$FERRY_TEST_CH_URL", database: ${db}_ferry }
pipes:
  bench:
    source: src
    destination: dst
    mode: snapshot
    tables: [ public.mixed ]
    settings: { snapshot_parallelism: $PARALLELISM, snapshot_rows_per_partition: 500000 }
YAML

echo "== ferry (parallelism $PARALLELISM)" >&2
t0=$(now)
/usr/bin/time -f "%M" -o "$work/rss" build/ferry run -f "$work/ferry.yaml" --catalog "sqlite:$work/ferry.db" --no-progress >/dev/null 2>"$work/ferry.log"
t1=$(now)
ferry_s=$(echo "$t1 - $t0" | bc -l)
ferry_rows=$(ch "SELECT count() FROM ${db}_ferry.mixed")
rss_mb=$(( $(cat "$work/rss") / 1024 ))

echo "== native: psql COPY | clickhouse-client" >&2
ch "CREATE DATABASE ${db}_native"
# Same destination table definition as ferry's, so both write the same bytes.
ddl=$(ch "SHOW CREATE TABLE ${db}_ferry.mixed FORMAT TSVRaw" | sed "s/${db}_ferry\./${db}_native./")
ch "$ddl"
cols="id, customer_id, amount, ratio, status, note, created, uid, seen_at"
t0=$(now)
psql "$FERRY_TEST_PG_DSN dbname=$db" -c "COPY (SELECT $cols FROM mixed) TO STDOUT" |
  clickhouse-client --port "$ch_port" --query "INSERT INTO ${db}_native.mixed ($cols) FORMAT TabSeparated"
t1=$(now)
native_s=$(echo "$t1 - $t0" | bc -l)
native_rows=$(ch "SELECT count() FROM ${db}_native.mixed")

ratio=$(echo "$native_s / $ferry_s" | bc -l)
printf '\nsnapshot of %s rows (%s MB in PostgreSQL), %s\n' "$ROWS" "$((bytes / 1048576))" "$(ch 'SELECT version()')"
printf '%-34s %8.2f s %12.0f rows/s  rows=%s  peak RSS %s MB\n' "ferry (parallelism $PARALLELISM)" "$ferry_s" \
  "$(echo "$ROWS / $ferry_s" | bc -l)" "$ferry_rows" "$rss_mb"
printf '%-34s %8.2f s %12.0f rows/s  rows=%s\n' "psql COPY | clickhouse-client" "$native_s" \
  "$(echo "$ROWS / $native_s" | bc -l)" "$native_rows"
printf 'ratio (native time / ferry time): %.2f  (target >= 1.0; ferry peak RSS target < 300 MB)\n' "$ratio"

ch "DROP DATABASE ${db}_ferry" ; ch "DROP DATABASE ${db}_native"
psql "$FERRY_TEST_PG_DSN" -qc "DROP DATABASE $db"
rm -rf "$work"
