# shellcheck shell=bash
# Helpers for bench/run.sh and its scenarios (bench/scenarios/<name>.sh), sourced.
#
# A scenario file defines scenario_<name, dashes as underscores>() and a
# "# summary: ..." line. It runs in its own subshell with `set -e`, writes its
# figures with `result KEY JSON` and the lines of the summary table with
# `summary FIGURE VALUE COMMAND`, and leaves no namespace behind (those made by
# bench_namespace are deleted when run.sh exits, whatever happens).
#
# Variables set by run.sh: REPO_ROOT, BUILD_DIR, BENCH_BIN, KUBECONFIG_FILE,
# WORK_DIR (scratch of this run), RAW_DIR (raw outputs, kept under
# bench/results/raw/), SCENARIO (the running scenario's name).

log() { echo "bench: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

kube() { "$REPO_ROOT/.cluster/bin/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# The local control plane, started if it is not running (idempotent; quick
# when it runs). Never stops anything: e2e tests may share the cluster.
ensure_cluster() {
  [ -f "$WORK_DIR/cluster-ready" ] && return 0
  "$REPO_ROOT/e2e/scripts/cluster-up.sh" >&2
  touch "$WORK_DIR/cluster-ready"
}

# The operator's CRDs, for scenarios that create TrainingRuns or ModelReleases.
ensure_crds() {
  [ -f "$WORK_DIR/crds-ready" ] && return 0
  kube apply --server-side --force-conflicts -f "$REPO_ROOT/crds" >/dev/null
  kube wait --for=condition=Established --timeout=60s -f "$REPO_ROOT/crds" >/dev/null
  touch "$WORK_DIR/crds-ready"
}

# Builds CMake targets into $BUILD_DIR/bin (configured first if needed), at
# most $BENCH_JOBS compiles at once.
build_targets() {
  if [ ! -f "$BUILD_DIR/build.ninja" ] && [ ! -f "$BUILD_DIR/Makefile" ]; then
    local generator="Unix Makefiles"
    command -v ninja >/dev/null 2>&1 && generator=Ninja
    cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -G "$generator" >/dev/null
  fi
  cmake --build "$BUILD_DIR" -j "$BENCH_JOBS" --target "$@" >&2
  local target
  for target in "$@"; do
    [ -x "$BENCH_BIN/$target" ] || die "$target was not built (is Google Benchmark installed?)"
  done
}

# Builds bench/clientgo into the toolchain cache, keyed by the hash of the
# module's files (like e2e/scripts/build-toolchain.sh); prints the binary's path.
clientgo_bench() {
  local cache_root=${CD4ML_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cd4ml-operator}
  local module=$REPO_ROOT/bench/clientgo
  local bin=$cache_root/bin/clientgo-bench stamp_file=$cache_root/stamps/clientgo-bench want
  want=$(cat "$module"/go.mod "$module"/go.sum "$module"/*.go | sha256sum | cut -c1-16)
  if [ ! -x "$bin" ] || [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$want" ]; then
    # shellcheck source-path=SCRIPTDIR/../e2e/scripts source=versions.sh
    source "$REPO_ROOT/e2e/scripts/versions.sh"
    # shellcheck source-path=SCRIPTDIR/../e2e/scripts source=go-toolchain.sh
    source "$REPO_ROOT/e2e/scripts/go-toolchain.sh"
    ensure_go
    log "building clientgo-bench (a cold build takes minutes)"
    mkdir -p "$cache_root/bin" "$cache_root/stamps"
    (cd "$module" && CGO_ENABLED=0 go build -p "$BENCH_JOBS" -trimpath -buildvcs=false -o "$bin.tmp" .) >&2
    mv "$bin.tmp" "$bin"
    echo "$want" > "$stamp_file"
  fi
  echo "$bin"
}

# Creates a namespace for this run and prints its name; run.sh deletes it at exit.
bench_namespace() {
  local name
  name="cd4ml-bench-$1-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  echo "$name" >> "$WORK_DIR/namespaces"
  kube create namespace "$name" >/dev/null
  kube label namespace "$name" cd4ml.io/benchmark=true >/dev/null
  echo "$name"
}

# Deletes a namespace now; with "wait", until it (and everything in it) is gone.
delete_namespace() {
  if [ "${2:-}" = wait ]; then
    kube delete namespace "$1" --ignore-not-found --wait=true --timeout=300s >/dev/null
  else
    kube delete namespace "$1" --ignore-not-found --wait=false >/dev/null
  fi
}

# A List of `count` ConfigMaps of ~1 KiB (cm-<first> ...) for namespace ns;
# generation changes some values (see configmap-list.awk).
configmap_list() {
  awk -v ns="$1" -v first="$2" -v count="$3" -v generation="${4:-1}" \
    -f "$REPO_ROOT/bench/configmap-list.awk"
}

# Waits until the namespace's kube-root-ca.crt exists (kube-controller-manager
# adds it), so object counts are exact; prints how many it adds (1, or 0 if it
# never came).
root_ca_configmaps() {
  local _
  for _ in $(seq 60); do
    kube get configmap kube-root-ca.crt -n "$1" >/dev/null 2>&1 && { echo 1; return; }
    sleep 0.5
  done
  echo 0
}

# Sets .KEY of this scenario's result to JSON.
result() {
  local file=$WORK_DIR/results/$SCENARIO.json
  [ -f "$file" ] || echo '{}' > "$file"
  jq --arg key "$1" --argjson value "$2" '.[$key] = $value' "$file" > "$file.tmp"
  mv "$file.tmp" "$file"
}

# One line of the summary table: figure, value, the command that measures it.
summary() {
  printf '%s\t%s\t%s\t%s\n' "$SCENARIO" "$1" "$2" "$3" >> "$WORK_DIR/summary.tsv"
}

# Median of the numbers on stdin (one per line).
median() {
  jq -s 'sort | if length == 0 then null
               elif length % 2 == 1 then .[length / 2 | floor]
               else (.[length / 2 - 1] + .[length / 2]) / 2 end'
}

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

# --- The operator as its own process (scenarios of the controllers) ---------
#
# start_operator NAMESPACE LOG [flag...] runs $BENCH_BIN/cd4ml-operator out of
# cluster against the local control plane, watching only NAMESPACE (e2e tests
# share the cluster), with /metrics and the probes on free loopback ports; it
# waits for /readyz and sets OPERATOR_PID and OPERATOR_METRICS (host:port).
# The operator is stopped when the scenario's subshell exits, whatever happens.

# A loopback TCP port nothing listened on a moment ago.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

start_operator() {
  local ns=$1 log_file=$2
  shift 2
  local metrics_port health_port
  metrics_port=$(free_port)
  health_port=$(free_port)
  [ "$health_port" != "$metrics_port" ] || health_port=$(free_port)
  "$BENCH_BIN/cd4ml-operator" --kubeconfig="$KUBECONFIG_FILE" --namespace="$ns" \
    --metrics-bind-address="127.0.0.1:$metrics_port" \
    --health-probe-bind-address="127.0.0.1:$health_port" "$@" > "$log_file" 2>&1 &
  OPERATOR_PID=$!
  OPERATOR_METRICS=127.0.0.1:$metrics_port
  trap stop_operator EXIT
  local _
  for _ in $(seq 300); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$health_port/readyz" 2>/dev/null; then
      log "operator $OPERATOR_PID ready (namespace $ns, metrics $OPERATOR_METRICS, log ${log_file#"$REPO_ROOT"/})"
      return 0
    fi
    kill -0 "$OPERATOR_PID" 2>/dev/null || die "the operator exited: $(tail -5 "$log_file")"
    sleep 0.2
  done
  die "the operator was not ready within 60 s: $(tail -5 "$log_file")"
}

# SIGTERM, then SIGKILL after 30 s; only the process start_operator started.
stop_operator() {
  [ -n "${OPERATOR_PID:-}" ] || return 0
  if kill -0 "$OPERATOR_PID" 2>/dev/null; then
    kill -TERM "$OPERATOR_PID" 2>/dev/null || true
    local _
    for _ in $(seq 150); do
      kill -0 "$OPERATOR_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$OPERATOR_PID" 2>/dev/null || true
  fi
  wait "$OPERATOR_PID" 2>/dev/null || true
  OPERATOR_PID=
}

# The operator's /metrics as a JSON array of {name, labels, value}.
operator_metrics() {
  curl -fsS "http://$OPERATOR_METRICS/metrics" | jq -R -s '
    [split("\n")[] | select(test("^[a-zA-Z_:]"))
     | capture("^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(?<labels>[^}]*)\\})?\\s+(?<value>\\S+)")
     | {name, value: (.value | tonumber),
        labels: ([(.labels // "") | scan("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\"")
                  | {(.[0]): .[1]}] | add // {})}]'
}

# Peak resident memory of the operator so far (VmHWM), in bytes.
operator_peak_rss() { awk '/^VmHWM:/ {print $2 * 1024}' "/proc/$OPERATOR_PID/status"; }

# Differences between two operator_metrics files, after minus before: requests
# by resource and verb and by code, reconciles by controller, CPU seconds.
metrics_delta() {
  jq -n --slurpfile before "$1" --slurpfile after "$2" '
    def sum_by(samples; f): reduce (samples[] | select(.name == "rest_client_requests_total"))
      as $s ({}; .[$s | f] += $s.value);
    def diff(a; b): reduce ((a + b) | keys_unsorted[]) as $k ({};
      ((a[$k] // 0) - (b[$k] // 0)) as $d | if $d != 0 then .[$k] = $d else . end);
    def requests(samples): sum_by(samples; .labels.resource + " " + .labels.verb);
    def codes(samples): sum_by(samples; .labels.code);
    def reconciles(samples): reduce (samples[] | select(.name == "controller_runtime_reconcile_total"))
      as $s ({}; .[$s.labels.controller] += $s.value);
    def cpu(samples): [samples[] | select(.name == "process_cpu_seconds_total") | .value] | add;
    diff(requests($after[0]); requests($before[0])) as $requests
    | {by_resource: (reduce ($requests | to_entries[]) as $e ({};
         ($e.key | split(" ")) as [$r, $v] | .[$r][$v] = $e.value)),
       by_code: diff(codes($after[0]); codes($before[0])),
       reconciles: diff(reconciles($after[0]); reconciles($before[0])),
       cpu_seconds: (cpu($after[0]) - cpu($before[0])),
       cpu_seconds_total: cpu($after[0])}'
}

# Writes (create, update, patch, apply, delete) to RESOURCE in a metrics_delta.
writes_to() {
  jq --arg r "$1" '[.by_resource[$r] // {} | to_entries[]
                    | select(.key | IN("create", "update", "patch", "apply", "delete")) | .value]
                   | add // 0'
}
