#!/usr/bin/env bash
# `ferry compare` rates: ROWS rows of mixed types copied by ferry (mode snapshot) from
# PostgreSQL into ClickHouse and into PostgreSQL, then compared at content level (digests
# computed inside each database, both ends at once). Prints rows/s per table and ferry's
# peak RSS, next to the time of a bare full read of the source table (`SELECT` of every
# row's md5 to /dev/null), which is what a compare without in-database hashing would at
# least cost. Then one changed value: the compare must name its key (a wrong answer is an
# error of the script, not a figure).
# Prints figures; asserts nothing about speed.
#   bench/compare_rate.sh [ROWS]      (default 1000000; goal: content level >= 1M rows/s)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}

source bench/common.sh

src=ferry_cmp_src_$$
chdb=ferry_cmp_$$
work=$(mktemp -d /tmp/ferry-cmp.XXXXXX)
pg() { local d=$1; shift; psql "$FERRY_TEST_PG_DSN dbname=$d" -v ON_ERROR_STOP=1 -qtA "$@"; }
cleanup() {
  for d in "$src" "${src}_dst"; do
    psql "$FERRY_TEST_PG_DSN" -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
  done
  ch "DROP DATABASE IF EXISTS $chdb" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap 'cleanup; stop_own_servers' EXIT
secs() { echo "$2 - $1" | bc -l; }

for d in "$src" "${src}_dst"; do psql "$FERRY_TEST_PG_DSN" -qc "CREATE DATABASE $d"; done
ch "CREATE DATABASE $chdb"

echo "== generating $ROWS rows of mixed types" >&2
pg_mixed_table "$src" "$ROWS"

cat > "$work/ferry.yaml" <<YAML
peers:
  src: { type: postgres, dsn: "$FERRY_TEST_PG_DSN dbname=$src" }
  ch: { type: clickhouse, url: "$FERRY_TEST_CH_URL", database: $chdb }
  pgdst: { type: postgres, dsn: "$FERRY_TEST_PG_DSN dbname=${src}_dst" }
pipes:
  to_ch: { source: src, destination: ch, mode: snapshot, tables: [ public.mixed ] }
  to_pg: { source: src, destination: pgdst, mode: snapshot, tables: [ public.mixed ] }
YAML
for p in to_ch to_pg; do
  echo "== ferry snapshot $p" >&2
  build/ferry run -f "$work/ferry.yaml" --pipe "$p" --catalog "sqlite:$work/$p.db" --no-progress >/dev/null 2>>"$work/run.log"
done

echo "== bare full read of the source (md5 of every row to /dev/null)" >&2
t0=$(now)
pg "$src" -c "COPY (SELECT md5(m::text) FROM mixed m) TO STDOUT" >/dev/null
t1=$(now)
read_s=$(secs "$t0" "$t1")

compare() {  # pipe -> "seconds rss_mb equal"
  local t0 t1
  t0=$(now)
  /usr/bin/time -f "%M" -o "$work/rss" build/ferry compare -f "$work/ferry.yaml" --pipe "$1" --level content \
    --output json >"$work/$1.json" 2>>"$work/compare.log" || true
  t1=$(now)
  echo "$(secs "$t0" "$t1") $(( $(tail -1 "$work/rss") / 1024 )) $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['equal'])" "$work/$1.json")"
}

declare -A took rss equal
for p in to_ch to_pg; do
  echo "== ferry compare $p (content)" >&2
  read -r took[$p] rss[$p] equal[$p] < <(compare "$p")
  [[ ${equal[$p]} == True ]] || { echo "compare $p reported a difference on equal tables:" >&2; cat "$work/$p.json" >&2; exit 1; }
done

echo "== one changed value at the source: both compares must name id=$((ROWS / 2))" >&2
pg "$src" -c "UPDATE mixed SET note = note || '!' WHERE id = $((ROWS / 2))"
for p in to_ch to_pg; do
  read -r _ _ eq < <(compare "$p")
  grep -q "\"id=$((ROWS / 2))\"" "$work/$p.json" && [[ $eq == False ]] ||
    { echo "compare $p did not name the changed key:" >&2; cat "$work/$p.json" >&2; exit 1; }
done

printf '\nferry compare, content level, %s rows (PostgreSQL 15 source)\n' "$ROWS"
printf '  %-36s %8.2f s %12.0f rows/s\n' "bare full read of the source" "$read_s" "$(echo "$ROWS / $read_s" | bc -l)"
for p in to_ch to_pg; do
  printf '  %-36s %8.2f s %12.0f rows/s  peak RSS %s MB\n' "compare $p" "${took[$p]}" \
    "$(echo "$ROWS / ${took[$p]}" | bc -l)" "${rss[$p]}"
done
echo "  (goal: >= 1000000 rows/s; one changed value was named by key by both)"
