#!/bin/sh
# run_fuzz.sh EXE CORPUS_DIR SECONDS
# Replays the corpus; with SECONDS > 0 (a libFuzzer build) also fuzzes for that
# long into a scratch copy, so the committed corpus is never modified by CI.
set -eu
exe=$1; corpus=$2; secs=$3
[ -d "$corpus" ] || { echo "no corpus at $corpus"; exit 1; }
files=$(find "$corpus" -type f | sort)
[ -n "$files" ] || { echo "empty corpus $corpus"; exit 1; }
if [ "$secs" -gt 0 ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp "$corpus"/* "$work"/
  # -runs bounds the count as well as the time.
  "$exe" -max_total_time="$secs" -runs=2000000 -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$work"
else
  # shellcheck disable=SC2086
  "$exe" $files
fi
