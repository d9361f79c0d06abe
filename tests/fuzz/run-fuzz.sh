#!/usr/bin/env bash
# Runs the libFuzzer targets built in a CINFER_FUZZ build (make fuzz / make fuzz-merge).
#   run-fuzz.sh BUILD_DIR SECONDS TARGET...         fuzz each target for SECONDS, one at a time
#   run-fuzz.sh --merge BUILD_DIR TARGET...         merge new coverage into the repo corpus
# Fuzzing works on a scratch corpus BUILD_DIR/corpus/<target> (refreshed from
# tests/fuzz/corpus/<target>, kept between runs); the repo corpus changes only with --merge.
# Crashes land in BUILD_DIR/artifacts/, logs in BUILD_DIR/logs/. Exit status 1 if any
# target found a crash.
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO_CORPUS=tests/fuzz/corpus

if [ "${1:-}" = "--merge" ]; then
  build=$2; shift 2
  for t in "$@"; do
    echo "[fuzz-merge] $t"
    "$build/fuzz/fuzz_$t" -merge=1 "$REPO_CORPUS/$t" "$build/corpus/$t" 2>&1 | tail -n 2
  done
  exit 0
fi

build=$1 seconds=$2; shift 2
mkdir -p "$build/artifacts" "$build/logs"
failed=()
for t in "$@"; do
  scratch=$build/corpus/$t
  mkdir -p "$scratch"
  cp -n "$REPO_CORPUS/$t"/* "$scratch"/ 2>/dev/null || true
  log=$build/logs/$t.log
  echo "[fuzz] $t for ${seconds}s (log: $log)"
  # Leaks are checked (libFuzzer default); -timeout catches hangs, -rss_limit_mb memory blowups.
  UBSAN_OPTIONS=print_stacktrace=1 "$build/fuzz/fuzz_$t" "$scratch" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
  echo "[fuzz] $t: exit $rc, ${runs:-?} runs, ${speed:-?} exec/s, $cov, corpus $(ls "$scratch" | wc -l) files"
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    grep -m 1 -A 12 'ERROR: \|FUZZ_CHECK\|runtime error' "$log" | sed 's/^/    /'
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "[fuzz] crashes in: ${failed[*]} (inputs: $build/artifacts/)"
  exit 1
fi
echo "[fuzz] no crashes"
