# Sourced by the benchmarks (from the repository root): the servers, the ferry
# binary and small helpers. Uses the servers of scripts/test-servers when
# FERRY_TEST_PG_DSN is set, else starts its own (stop_own_servers stops them).
own_servers=""
if [[ -z "${FERRY_TEST_PG_DSN:-}" ]]; then
  eval "$(scripts/test-servers start)"
  own_servers=$FERRY_SERVERS_DIR
fi
stop_own_servers() {
  [[ -n "$own_servers" ]] && scripts/test-servers stop "$own_servers" >/dev/null 2>&1
  true
}
[[ -x build/ferry ]] || { cmake -S . -B build -G Ninja >/dev/null && cmake --build build --target ferry; }

psql_db() { psql "$FERRY_TEST_PG_DSN dbname=$db" -v ON_ERROR_STOP=1 -qtA "$@"; }  # the benchmark's database $db
ch() { curl -sS --fail-with-body "$FERRY_TEST_CH_URL/" --data-binary "$1"; }
now() { date +%s.%N; }

# The benchmarks' PostgreSQL table `mixed` of $2 rows (bigint key, integer, numeric(12,2),
# double, text, varchar, date, uuid, timestamp) in database $1, vacuumed and analyzed.
pg_mixed_table() {
  psql "$FERRY_TEST_PG_DSN dbname=$1" -v ON_ERROR_STOP=1 -q <<SQL
CREATE TABLE mixed (id bigint PRIMARY KEY, customer_id integer NOT NULL, amount numeric(12,2), ratio double precision,
  status text, note varchar(64), created date, uid uuid, seen_at timestamp);
INSERT INTO mixed SELECT g, ((g::bigint * 7919) % 100000)::int, (g % 100000) / 100.0, g / 7.0,
  (ARRAY['new','paid','shipped','returned'])[1 + g % 4], 'note ' || md5(g::text),
  date '2000-01-01' + (g % 9000), md5(g::text)::uuid, timestamp '2020-01-01' + g * interval '1 second'
  FROM generate_series(1, $2) g;
VACUUM ANALYZE mixed;
SQL
}
