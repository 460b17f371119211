#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) and runs
# each for a bounded time, from its committed seed corpus plus what earlier
# runs found (kept in the build tree, never in the repository).
#
#   tests/fuzz/run.sh [seconds per target (300)] [target ...]
#
# `make fuzz` runs every target for FUZZ_SECONDS; `make test` runs a short
# smoke of each (FUZZ_SMOKE_SECONDS), so a target that no longer builds or
# that crashes fails CI. Prints per target: executions, executions per second,
# edge coverage (libFuzzer's "cov"), corpus size. Exit 1 on any crash, leak,
# timeout or sanitizer report; the input that caused it is saved under
# <build>/crashes/ and its log's last lines are printed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${CD4ML_FUZZ_BUILD_DIR:-$repo/build-fuzz}
seconds=${1:-300}
shift || true

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$repo" -B "$build" -G Ninja -DCD4ML_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j "${JOBS:-$(nproc)}" >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$repo"/tests/fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

mkdir -p "$build/crashes"
status=0
printf '%-22s %12s %10s %8s %8s\n' target executions exec/s cov corpus
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  log="$build/$t.log"
  mkdir -p "$work"
  if ! "$build/bin/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
      -rss_limit_mb=2048 -max_len=8192 -artifact_prefix="$build/crashes/$t-" \
      "$work" "$repo/tests/fuzz/corpus/$t" >"$log" 2>&1; then
    echo "fuzz: $t FAILED; input saved as $(ls -t "$build"/crashes/"$t"-* 2>/dev/null | head -1)"
    tail -40 "$log"
    status=1
    continue
  fi
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  corpus=$(find "$work" "$repo/tests/fuzz/corpus/$t" -type f | wc -l)
  printf '%-22s %12s %10s %8s %8s\n' "$t" "$execs" "$rate" "${cov:-?}" "$corpus"
done
exit $status
