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
