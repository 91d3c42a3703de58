#!/usr/bin/env bash
# CDC benchmark, PostgreSQL -> Kafka: catch-up throughput. CHANGES row changes are written
# while ferry is stopped; then ferry streams them from its slot into a Kafka topic (JSON
# envelopes, acks=all, idempotent). Compared with the native pipeline
#   pg_recvlogical (test_decoding, one line per change) | kcat -P (one message per line)
# reading the same changes from a second slot into another topic.
# Ratio = ferry changes/s / native changes/s. Prints figures; asserts nothing.
#   bench/cdc_to_kafka_vs_kcat.sh [CHANGES]
set -euo pipefail
cd "$(dirname "$0")/.."
CHANGES=${1:-1000000}
PGBIN=/usr/lib/postgresql/15/bin

source bench/common.sh
[[ -n ${FERRY_TEST_KAFKA_BOOTSTRAP:-} ]] || { echo "no Kafka broker (scripts/test-servers starts one)" >&2; exit 1; }
command -v kcat >/dev/null || { echo "kcat missing (scripts/deps installs kafkacat)" >&2; exit 1; }

db=ferry_kbench_$$
work=$(mktemp -d /tmp/ferry-kbench.XXXXXX)
dsn="$FERRY_TEST_PG_DSN dbname=$db"
ferry_pid=""
cleanup() {
  [[ -n "$ferry_pid" ]] && kill "$ferry_pid" 2>/dev/null && wait "$ferry_pid" 2>/dev/null
  psql_db -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '$db' AND NOT active" >/dev/null 2>&1 || true
  psql "$FERRY_TEST_PG_DSN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap 'cleanup; stop_own_servers' EXIT

psql "$FERRY_TEST_PG_DSN" -qc "CREATE DATABASE $db"
psql_db -c "CREATE TABLE events (id bigint PRIMARY KEY, kind text, amount numeric(12,2), payload text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp())"
cat > "$work/ferry.yaml" <<YAML
peers:
  src: { type: postgres, dsn: "$dsn" }
  bus: { type: kafka, bootstrap_servers: "$FERRY_TEST_KAFKA_BOOTSTRAP", topic_prefix: $db, partitions: 3 }
pipes:
  bench:
    source: src
    destination: bus
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

echo "== creating the stream (ferry, mode cdc) and a test_decoding slot at the same point" >&2
start_ferry
for _ in $(seq 150); do [[ -n "$(checkpoint)" ]] && break; sleep 0.2; done
stop_ferry
psql_db -c "SELECT pg_create_logical_replication_slot('kbench_recv_$$', 'test_decoding')" >/dev/null

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

echo "== pg_recvlogical | kcat -P up to $end_lsn" >&2
t0=$(now)
"$PGBIN/pg_recvlogical" -d "$dsn" -S "kbench_recv_$$" --start --endpos="$end_lsn" -f - --no-loop \
  | kcat -P -b "$FERRY_TEST_KAFKA_BOOTSTRAP" -t "${db}_native" -X acks=all -X enable.idempotence=true \
      -X compression.codec=lz4 2>"$work/kcat.log" \
  || { echo "kcat failed:" >&2; cat "$work/kcat.log" >&2; }
t1=$(now)
native_s=$(echo "$t1 - $t0" | bc -l)
psql_db -c "SELECT pg_drop_replication_slot('kbench_recv_$$')" >/dev/null

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
ferry_cpu=$(awk -v tck="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / tck }' "/proc/$ferry_pid/stat")
stop_ferry
messages=$(kcat -C -b "$FERRY_TEST_KAFKA_BOOTSTRAP" -t "$db.public.events" -e -q -f 'x\n' 2>/dev/null | wc -l)

printf '\nCDC PostgreSQL 15 -> Kafka 4.1 (single broker)\n'
printf '%-40s %8.2f s %12.0f changes/s\n' "pg_recvlogical | kcat -P (native)" "$native_s" "$(echo "$CHANGES / $native_s" | bc -l)"
printf '%-40s %8.2f s %12.0f changes/s  (messages in the topic: %s)\n' "ferry catch-up into Kafka" "$ferry_s" \
  "$(echo "$CHANGES / $ferry_s" | bc -l)" "$messages"
printf '%-40s %8.2f s CPU (user + system)\n' "ferry's process during the catch-up" "$ferry_cpu"
printf 'throughput ratio (ferry / native): %.2f  (target >= 1.0)\n' "$(echo "$native_s / $ferry_s" | bc -l)"
