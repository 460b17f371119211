# shellcheck shell=bash
# summary: canary step latency p50/p99, API writes per canary rollout, zero writes when idle
#
# The release-rollouts benchmark with spec.strategy.canary: one ModelRelease
# (uri + version, BENCH_CANARY_REPLICAS (4) replicas on the kwok node,
# scaleDownDelaySeconds 1) rolled through BENCH_ROLLOUTS (30) new versions,
# each a canary of BENCH_CANARY_STEPS (setWeight 20, then 50: 1 pod, then 4
# beside 4) waited for until it has settled. The step latency runs from the
# moment the canary's Deployment reports full availability at the step's pod
# count to the moment the release's status records the step done (the
# reconcile that records it also writes the weight); writes per rollout are
# counted as in release-rollouts, then a BENCH_QUIET (30) s window with
# nothing changing must show none.

scenario_canary_rollouts() {
  local rollouts=${BENCH_ROLLOUTS:-30} quiet=${BENCH_QUIET:-30}
  local replicas=${BENCH_CANARY_REPLICAS:-4}
  local steps=${BENCH_CANARY_STEPS:-'[{"setWeight":20},{"setWeight":50}]'}
  ensure_cluster
  ensure_crds
  build_targets cd4ml-operator cluster_bench
  local ns out
  ns=$(bench_namespace canary)
  # shellcheck disable=SC2086  # flags are words
  start_operator "$ns" "$RAW_DIR/canary-rollouts.operator.log" ${BENCH_OPERATOR_FLAGS:-}
  out=$("$BENCH_BIN/cluster_bench" release-rollouts --namespace "$ns" --release canary \
    --metrics "$OPERATOR_METRICS" --rollouts "$rollouts" --quiet "$quiet" \
    --replicas "$replicas" --canary-steps "$steps")
  stop_operator
  echo "$out" > "$RAW_DIR/canary-rollouts.json"
  local figures
  figures=$(jq '{rollouts, replicas, canary_steps, step_latency_ms, switch_latency_ms, rollout_ms,
                 per_rollout, quiet_window: (.quiet_window | del(.requests)),
                 max_object_writes_in_a_rollout: ([.each[].object_writes] | max)}' <<< "$out")
  result figures "$figures"
  summary "canary step latency p50 / p99 / max ($rollouts rollouts, $(jq -c . <<< "$steps"))" \
    "$(jq -r '.step_latency_ms | "\(.p50 * 10 | round / 10) / \(.p99 * 10 | round / 10) / \(.max * 10 | round / 10) ms"' <<< "$figures")" \
    "bench/run.sh canary-rollouts"
  summary "API writes per canary rollout, besides status" \
    "$(jq -r 'def r: . * 100 | round / 100; .per_rollout as $p |
      "\($p.object_writes | r) (max \(.max_object_writes_in_a_rollout): \($p.deployment_writes | r) Deployment + \($p.service_writes | r) Service); + \($p.status_writes | r) status, \($p.event_writes | r) Events"' <<< "$figures")" \
    "bench/run.sh canary-rollouts"
  summary "writes in a ${quiet} s window after canaries, nothing changing" \
    "$(jq -r '.quiet_window | "\(.object_writes + .status_writes + .event_writes) (\(.reconciles) reconciles)"' <<< "$figures")" \
    "bench/run.sh canary-rollouts"
  delete_namespace "$ns"
}
