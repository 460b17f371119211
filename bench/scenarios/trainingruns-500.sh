# shellcheck shell=bash
# summary: 500 TrainingRuns created at once: time to all Succeeded, API writes per run, peak operator RSS
#
# Starts the operator (build/bin/cd4ml-operator, default flags, watching only
# a fresh namespace), creates BENCH_TRAININGRUNS (500) TrainingRuns from 8
# client threads at once (cluster_bench create-and-wait, which stamps each
# run's Succeeded from its own watch), and reads the operator's /metrics before
# and after: writes by resource, 409s, reconciles, CPU seconds; peak RSS is
# the process's VmHWM. Each run's fake trainer (kwok) reports two metrics and
# an artifact digest, so every run goes through Running -> Succeeded with
# MetricsReported=True. Extra operator flags: BENCH_OPERATOR_FLAGS.

# A List of `count` TrainingRuns of one model with different params.
trainingrun_list() {
  jq -n --arg ns "$1" --argjson count "$2" '
    {apiVersion: "v1", kind: "List", items: [range($count) as $i | {
      apiVersion: "cd4ml.io/v1alpha1", kind: "TrainingRun",
      metadata: {name: "bench-\($i)", namespace: $ns},
      spec: {
        model: "bench",
        code: {repository: "https://git.example/bench-model", revision: "4f1c2a9"},
        data: {uri: "s3://datasets/bench", version: "2026-11-01",
               digest: ("sha256:" + ("0123456789abcdef" * 4))},
        trainer: {image: "registry.example/bench-trainer:1",
                  env: [{name: "KWOK_TERMINATION_MESSAGE",
                         value: ({metrics: {accuracy: (0.8 + $i / 10000), auc: 0.9},
                                  artifactDigest: ("sha256:" + ("fedcba9876543210" * 4))} | tojson)}]},
        params: {seed: "\($i)", learning_rate: "0.1"},
        output: {uri: "s3://models"}}}]}'
}

scenario_trainingruns_500() {
  local count=${BENCH_TRAININGRUNS:-500}
  ensure_cluster
  ensure_crds
  build_targets cd4ml-operator cluster_bench
  local ns list before after waited delta
  ns=$(bench_namespace trainingruns)
  list=$WORK_DIR/trainingruns.json
  trainingrun_list "$ns" "$count" > "$list"
  # shellcheck disable=SC2086  # flags are words
  start_operator "$ns" "$RAW_DIR/trainingruns-500.operator.log" ${BENCH_OPERATOR_FLAGS:-}
  before=$WORK_DIR/tr-before.json
  after=$WORK_DIR/tr-after.json
  operator_metrics > "$before"
  waited=$("$BENCH_BIN/cluster_bench" create-and-wait --namespace "$ns" --resource trainingruns \
    --objects "$list" --threads 8 --deadline 1200)
  operator_metrics > "$after"
  delta=$(metrics_delta "$before" "$after")
  local rss
  rss=$(operator_peak_rss)
  stop_operator
  echo "$delta" > "$RAW_DIR/trainingruns-500.requests.json"

  local figures
  figures=$(jq -n --argjson w "$waited" --argjson d "$delta" --argjson n "$count" --argjson rss "$rss" '
    def writes(r): [($d.by_resource[r] // {}) | to_entries[]
                    | select(.key | IN("create", "update", "patch", "apply", "delete")) | .value]
                   | add // 0;
    {runs: $n, all_succeeded_seconds: $w.all_done_seconds,
     requests_seconds: $w.requests_seconds,
     succeeded_since_first_request_ms: $w.done_since_first_request_ms,
     per_run: {job_creates: (($d.by_resource.jobs.create // 0) / $n),
               job_writes: (writes("jobs") / $n),
               trainingrun_writes: (writes("trainingruns") / $n),
               status_writes: (writes("trainingruns/status") / $n),
               event_writes: (writes("events") / $n),
               reconciles: (($d.reconciles.trainingrun // 0) / $n)},
     conflicts_409: ($d.by_code["409"] // 0),
     operator_peak_rss_mib: ($rss / 1048576),
     operator_cpu_seconds: $d.cpu_seconds,
     requests: $d.by_resource}')
  result figures "$figures"
  summary "time until $count TrainingRuns Succeeded" \
    "$(jq -r '"\(.all_succeeded_seconds * 10 | round / 10) s (creates sent in \(.requests_seconds * 10 | round / 10) s; p50 \(.succeeded_since_first_request_ms.p50 / 100 | round / 10) s)"' <<< "$figures")" \
    "bench/run.sh trainingruns-500"
  summary "API writes per TrainingRun" \
    "$(jq -r '.per_run | "\(.job_creates) Job create + \(.status_writes) status (+ \(.event_writes * 100 | round / 100) Events, \(.job_writes - .job_creates) other Job writes, \(.trainingrun_writes) spec writes)"' <<< "$figures")" \
    "bench/run.sh trainingruns-500"
  summary "operator peak RSS, CPU ($count runs)" \
    "$(jq -r '"\(.operator_peak_rss_mib * 10 | round / 10) MiB, \(.operator_cpu_seconds * 10 | round / 10) CPU s, \(.conflicts_409) conflicts"' <<< "$figures")" \
    "bench/run.sh trainingruns-500"
  delete_namespace "$ns"
}
