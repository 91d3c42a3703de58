#!/usr/bin/env bash
# Writes every message of tests/fixtures/pgoutput/*.hex as one file into DIR (the seed corpus
# of pgoutput_fuzz): the pgoutput messages, the whole CopyData payloads of copydata.hex and
# their pgoutput payloads.
set -euo pipefail
DIR=${1:?usage: $0 CORPUS_DIR}
FIXTURES=$(cd "$(dirname "$0")/../fixtures/pgoutput" && pwd)
mkdir -p "$DIR"
n=0
for f in "$FIXTURES"/*.hex; do
  while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] && continue
    n=$((n + 1))
    printf '%s' "$line" | xxd -r -p >"$DIR/$(basename "$f" .hex)-$n"
    if [[ $(basename "$f") == copydata.hex && $line == 77* ]]; then
      printf '%s' "${line:50}" | xxd -r -p >"$DIR/$(basename "$f" .hex)-$n-payload"
    fi
  done <"$f"
done
echo "$n seed inputs in $DIR" >&2
