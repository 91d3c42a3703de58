#!/usr/bin/env bash
# Resync benchmark: `ferry pipe resync` of a streaming PostgreSQL -> ClickHouse
# pipe while a writer keeps changing the table, against the native rebuild
# `CREATE TABLE new; psql COPY | clickhouse-client INSERT; RENAME` (which
# stops nothing and catches up nothing). Prints both times, the ratio
# (native time / ferry time) and how stale the old table got during ferry's
# load (age of the newest row it held, sampled). Not a test: nothing asserts a time.
#
#   bench/resync_vs_native.sh [ROWS]     (default 5000000; FERRY_BENCH_PARALLELISM, default 4)
# Uses running servers from scripts/test-servers when FERRY_TEST_PG_DSN is set,
# else starts its own.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-5000000}
PARALLELISM=${FERRY_BENCH_PARALLELISM:-4}

source bench/common.sh
cleanup() {
  [[ -n "${server:-}" ]] && kill "$server" 2>/dev/null
  [[ -n "${writer:-}" ]] && kill "$writer" 2>/dev/null
  stop_own_servers
}
trap cleanup EXIT

db=ferry_rsbench_$$
work=$(mktemp -d /tmp/ferry-rsbench.XXXXXX)
ch_port=${FERRY_TEST_CH_TCP_PORT:?}
port=$((20000 + $$ % 20000))
api=http://127.0.0.1:$port/api/v1
state() { curl -sS "$api/pipes/bench" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }

echo "== generating $ROWS rows" >&2
psql "$FERRY_TEST_PG_DSN" -qc "CREATE DATABASE $db"
psql_db <<SQL
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer NOT NULL, amount numeric(12,2), status text,
  note varchar(64), updated_at timestamptz NOT NULL DEFAULT now());
INSERT INTO orders SELECT g, ((g::bigint * 7919) % 100000)::int, (g % 100000) / 100.0,
  (ARRAY['new','paid','shipped','returned'])[1 + g % 4], 'note ' || md5(g::text), now() FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE orders;
SQL

cat > "$work/ferry.yaml" <<YAML
peers:
  src: { type: postgres, dsn: "$FERRY_TEST_PG_DSN dbname=$db" }
  dst: { type: clickhouse, url: "$FERRY_TEST_CH_URL", database: ${db}_ferry }
pipes:
  bench:
    source: src
    destination: dst
    mode: snapshot+cdc
    tables: [ public.orders ]
    settings: { snapshot_parallelism: $PARALLELISM, snapshot_rows_per_partition: 250000, sync_interval: 500ms }
YAML

build/ferry server -f "$work/ferry.yaml" --catalog "sqlite:$work/ferry.db" --listen "127.0.0.1:$port" \
  >"$work/server.log" 2>&1 &
server=$!
until [[ "$(state 2>/dev/null)" == Running ]]; do sleep 0.2; done

# Writer: 200 updates/s on random rows, each stamping updated_at.
( while :; do psql_db -c "UPDATE orders SET status = 'touched', updated_at = now()
    WHERE id IN (SELECT 1 + (random() * ($ROWS - 1))::bigint FROM generate_series(1, 20))" >/dev/null; sleep 0.1; done ) &
writer=$!
sleep 2

echo "== ferry resync under writes" >&2
t0=$(now)
answer=$(curl -sS -w ' %{http_code}' -H 'Content-Type: application/json' -d '{}' "$api/pipes/bench/resync")
[[ "$answer" == *" 202" ]] || { echo "resync refused: $answer" >&2; exit 1; }
max_stale=0
while :; do
  s=$(state)
  [[ "$s" == Running ]] && break  # the answer came after the move to Snapshot
  if [[ "$s" == Snapshot ]]; then  # age of the old table's newest change while the rebuild loads
    age=$(ch "SELECT toUnixTimestamp(now()) - toUnixTimestamp(toDateTime(substring(max(updated_at), 1, 19), 'UTC')) FROM ${db}_ferry.orders" 2>&1) ||
      { echo "reading the old table failed: $age" >&2; exit 1; }
    (( age > max_stale )) && max_stale=$age
  fi
  sleep 0.2
done
t1=$(now)
ferry_s=$(echo "$t1 - $t0" | bc -l)
kill $writer; wait $writer 2>/dev/null || true; writer=""

echo "== native rebuild: CREATE, psql COPY | clickhouse-client, RENAME" >&2
ddl=$(ch "SHOW CREATE TABLE ${db}_ferry.orders FORMAT TSVRaw" | sed "s/${db}_ferry\.orders/${db}_ferry.orders_native/")
cols="id, customer_id, amount, status, note, updated_at"
t0=$(now)
ch "$ddl"
psql "$FERRY_TEST_PG_DSN dbname=$db" -c "COPY (SELECT id, customer_id, amount, status, note,
  to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM orders) TO STDOUT" |
  clickhouse-client --port "$ch_port" --query "INSERT INTO ${db}_ferry.orders_native ($cols) FORMAT TabSeparated"
ch "RENAME TABLE ${db}_ferry.orders_native TO ${db}_ferry.orders_native2"
t1=$(now)
native_s=$(echo "$t1 - $t0" | bc -l)

printf '\nresync of %s rows under 200 updates/s, %s\n' "$ROWS" "$(ch 'SELECT version()')"
printf '%-46s %8.2f s (load, catch-up, carry, swap; streaming on)\n' "ferry pipe resync" "$ferry_s"
printf '%-46s %8.2f s (no changes caught up)\n' "CREATE + psql COPY | clickhouse-client + RENAME" "$native_s"
printf 'ratio (native time / ferry time): %.2f\n' "$(echo "$native_s / $ferry_s" | bc -l)"
printf 'old table staleness during the load: at most %s s (sampled every 0.2 s)\n' "$max_stale"
grep -E "resync|catch-up|replaying|carried|Resync" "$work/server.log" | sed 's/^/  /' || true

kill $server; wait $server 2>/dev/null || true; server=""
ch "DROP DATABASE ${db}_ferry"
psql "$FERRY_TEST_PG_DSN" -qc "DROP DATABASE $db"
rm -rf "$work"
