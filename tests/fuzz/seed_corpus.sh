#!/usr/bin/env bash
# tests/fuzz/seed_corpus.sh TARGET DIR: writes the seed inputs of a libFuzzer target, made
# from the test fixtures, into DIR (scripts/fuzz adds them to the kept corpus).
#   pgoutput_fuzz    every message of tests/fixtures/pgoutput/*.hex, the CopyData payloads
#   binlog_fuzz      each captured binlog file, and its first 2..N events
#   copy_text_fuzz   each row of tests/fixtures/clickhouse/all_types.copy, and a MariaDB-types row
#   tsv_answer_fuzz  the TSV answers tests/fixtures/clickhouse/*.tsv, and each of their lines
set -euo pipefail
TARGET=${1:?usage: $0 TARGET CORPUS_DIR}
DIR=${2:?usage: $0 TARGET CORPUS_DIR}
FIXTURES=$(cd "$(dirname "$0")/../fixtures" && pwd)
mkdir -p "$DIR"
# One seed from stdin, named after its content (seeds often end a pipeline: no counters).
seed() {
  local tmp
  tmp=$(mktemp -p "$DIR")
  cat >"$tmp"
  mv "$tmp" "$DIR/seed-$1-$(sha1sum <"$tmp" | cut -c1-12)"
}

case $TARGET in
  pgoutput_fuzz)
    for f in "$FIXTURES"/pgoutput/*.hex; do
      while IFS= read -r line; do
        [[ -z $line || $line == \#* ]] && continue
        printf '%s' "$line" | xxd -r -p | seed "$(basename "$f" .hex)"
        if [[ $(basename "$f") == copydata.hex && $line == 77* ]]; then
          printf '%s' "${line:50}" | xxd -r -p | seed payload
        fi
      done <"$f"
    done ;;
  binlog_fuzz)
    for f in "$FIXTURES"/binlog/*.hex; do
      name=$(basename "$f" .hex)
      tr -cd '0-9a-f' <"$f" | xxd -r -p >"$DIR/seed-$name"
      # Prefixes of 2.. events (after the 4-byte magic; event_size is bytes 9..12 of a header).
      python3 - "$DIR/seed-$name" "$DIR/seed-$name-events" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
pos, k = 4, 0
while pos + 19 <= len(data):
    size = struct.unpack_from('<I', data, pos + 9)[0]
    if size < 19 or pos + size > len(data): break
    pos += size; k += 1
    if k >= 2: open(f"{sys.argv[2]}-{k}", 'wb').write(data[:pos])
PY
    done ;;
  copy_text_fuzz)
    # A leading plan byte (see copy_text_fuzz.cpp): 0..5 all_types, 6..11 mariadb_types.
    for plan in 0 1 2 3 4 5; do
      while IFS= read -r line; do
        { printf "\\x$(printf %02x $plan)"; printf '%s\n' "$line"; } | seed all_types
      done <"$FIXTURES/clickhouse/all_types.copy"
    done
    for plan in 6 7 8 9 10 11; do
      { printf "\\x$(printf %02x $plan)"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' -128 255 65535 4294967295 18446744073709551615 \
          2155 101 'a,c' '\\x0101000000000000000000f03f000000000000f03f' 0000-00-00 '2038-01-19 03:14:07.999999' \
          '-12345678901234567890123456789012345.123456789012345678901234567890'; } | seed mariadb_types
    done ;;
  tsv_answer_fuzz)
    for f in "$FIXTURES"/clickhouse/*.tsv; do
      seed answer <"$f"
      while IFS= read -r line; do printf '%s\n' "$line" | seed line; done <"$f"
    done ;;
  *) echo "seed_corpus.sh: unknown target $TARGET" >&2; exit 2 ;;
esac
echo "seed_corpus.sh: $(find "$DIR" -type f | wc -l) inputs for $TARGET in $DIR" >&2
