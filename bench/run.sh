#!/usr/bin/env bash
# Runs the benchmarks (`make bench` runs them all), prints a summary table and
# writes bench/results/latest.json. docs/performance.md explains the figures.
#
#   bench/run.sh [scenario...]    default: every scenario, in the order below
#   bench/run.sh --list
#
# A scenario is bench/scenarios/<name>.sh (see bench/lib.sh). Running some
# scenarios replaces only their entries in latest.json; raw outputs of the
# last run of each are in bench/results/raw/.
#
# Environment: BUILD_DIR (build), BENCH_JOBS (2: parallel compiles; this
# machine is small and shared), plus the knobs each scenario documents.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCENARIOS=(watch-decode runtime-micro cache-memory reconcile-latency trainingruns-500 release-rollouts
  canary-rollouts releases-200)

BUILD_DIR=${BUILD_DIR:-build}
[[ $BUILD_DIR = /* ]] || BUILD_DIR=$REPO_ROOT/$BUILD_DIR
BENCH_BIN=$BUILD_DIR/bin
BENCH_JOBS=${BENCH_JOBS:-2}
KUBECONFIG_FILE=$REPO_ROOT/.cluster/kubeconfig
RESULTS_DIR=$REPO_ROOT/bench/results
RAW_DIR=$RESULTS_DIR/raw
export REPO_ROOT BUILD_DIR BENCH_BIN BENCH_JOBS KUBECONFIG_FILE RAW_DIR
# shellcheck source=bench/lib.sh
source "$REPO_ROOT/bench/lib.sh"

scenario_file() { echo "$REPO_ROOT/bench/scenarios/$1.sh"; }

if [ "${1:-}" = --list ]; then
  for name in "${SCENARIOS[@]}"; do
    printf '%-20s %s\n' "$name" "$(sed -n 's/^# summary: //p' "$(scenario_file "$name")")"
  done
  exit 0
fi

selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${SCENARIOS[@]}")
for name in "${selected[@]}"; do
  [ -f "$(scenario_file "$name")" ] || die "no scenario \"$name\" (bench/run.sh --list)"
done

WORK_DIR=$(mktemp -d)
export WORK_DIR
mkdir -p "$WORK_DIR/results" "$RAW_DIR"
touch "$WORK_DIR/namespaces" "$WORK_DIR/summary.tsv"

cleanup() {
  local ns
  while read -r ns; do
    if [ -n "$ns" ]; then delete_namespace "$ns" 2>/dev/null || true; fi
  done < "$WORK_DIR/namespaces"
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

commit=$(git -C "$REPO_ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$REPO_ROOT" status --porcelain 2>/dev/null | grep -q . && echo true || echo false)
failed=()
for name in "${selected[@]}"; do
  log "scenario $name (load average $(load_average))"
  started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  load_before=$(load_average)
  start_s=$SECONDS
  set +e
  (
    set -euo pipefail
    # shellcheck disable=SC2034  # read by result and summary (lib.sh)
    SCENARIO=$name
    # shellcheck source=/dev/null
    source "$(scenario_file "$name")"
    "scenario_${name//-/_}"
  )
  rc=$?
  set -e
  file=$WORK_DIR/results/$name.json
  [ -f "$file" ] || echo '{}' > "$file"
  jq --arg started "$started" --arg commit "$commit" --argjson dirty "$dirty" \
    --arg load_before "$load_before" --arg load_after "$(load_average)" \
    --argjson seconds $((SECONDS - start_s)) --argjson ok "$([ $rc = 0 ] && echo true || echo false)" \
    --rawfile summary "$WORK_DIR/summary.tsv" --arg name "$name" \
    '. + {run: {started: $started, seconds: $seconds, ok: $ok, git_commit: $commit,
                uncommitted_changes: $dirty, load_average_before: $load_before,
                load_average_after: $load_after},
          summary: [$summary | split("\n")[] | select(length > 0) | split("\t")
                    | select(.[0] == $name) | {figure: .[1], value: .[2], command: .[3]}]}' \
    "$file" > "$file.tmp"
  mv "$file.tmp" "$file"
  if [ $rc != 0 ]; then
    log "scenario $name failed (exit $rc)"
    failed+=("$name")
  fi
done

# latest.json: the previous file with this run's scenarios replaced.
latest=$RESULTS_DIR/latest.json
previous='{}'
[ -f "$latest" ] && previous=$(jq '.scenarios // {}' "$latest")
machine=$(jq -n --arg cpu "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)" \
  --argjson cores "$(nproc)" \
  --argjson mem_kib "$(awk '/^MemTotal/ {print $2}' /proc/meminfo)" \
  --arg kernel "$(uname -r)" \
  '{cpu: $cpu, cores: $cores, memory_bytes: ($mem_kib * 1024), kernel: $kernel}')
jq -n --argjson previous "$previous" --argjson machine "$machine" \
  --arg written "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  '{written: $written, machine: $machine,
    scenarios: ($previous + (reduce inputs as $r ({}; . + {($r.name): $r.value})))}' \
  < <(for name in "${selected[@]}"; do
        jq --arg name "$name" '{name: $name, value: .}' "$WORK_DIR/results/$name.json"
      done) > "$latest.tmp"
mv "$latest.tmp" "$latest"

echo
{
  printf 'SCENARIO\tFIGURE\tVALUE\tCOMMAND\n'
  cat "$WORK_DIR/summary.tsv"
} | column -t -s $'\t'
echo
echo "results: ${latest#"$REPO_ROOT"/} (raw outputs in ${RAW_DIR#"$REPO_ROOT"/}/)"
if [ ${#failed[@]} -gt 0 ]; then
  log "failed scenarios: ${failed[*]}"
  exit 1
fi
