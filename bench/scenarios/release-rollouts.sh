# shellcheck shell=bash
# summary: blue/green switch latency p50/p99 and API writes per rollout, zero writes when idle
#
# Starts the operator watching a fresh namespace and rolls one ModelRelease
# (uri + version, 2 replicas, scaleDownDelaySeconds 1) through
# BENCH_ROLLOUTS (100) new versions, one after the other, each waited for
# until it has settled (cluster_bench release-rollouts). A single watcher
# (informers on Deployments, Services, ModelReleases) stamps the moment the
# new revision's Deployment reports full availability and the moment the
# active Service's selector moves to it: the switch latency. The operator's
# /metrics, read around each rollout, gives its writes (Deployments +
# Services; status and Events apart), then a BENCH_QUIET (30) s window with
# nothing changing must show no writes at all.

scenario_release_rollouts() {
  local rollouts=${BENCH_ROLLOUTS:-100} quiet=${BENCH_QUIET:-30}
  ensure_cluster
  ensure_crds
  build_targets cd4ml-operator cluster_bench
  local ns out
  ns=$(bench_namespace rollouts)
  # shellcheck disable=SC2086  # flags are words
  start_operator "$ns" "$RAW_DIR/release-rollouts.operator.log" ${BENCH_OPERATOR_FLAGS:-}
  out=$("$BENCH_BIN/cluster_bench" release-rollouts --namespace "$ns" \
    --metrics "$OPERATOR_METRICS" --rollouts "$rollouts" --quiet "$quiet")
  stop_operator
  echo "$out" > "$RAW_DIR/release-rollouts.json"
  local figures
  figures=$(jq '{rollouts, replicas, switch_latency_ms, switch_latency_from_available_ms,
                 rollout_ms, per_rollout, quiet_window: (.quiet_window | del(.requests)),
                 max_object_writes_in_a_rollout: ([.each[].object_writes] | max)}' <<< "$out")
  result figures "$figures"
  summary "switch latency p50 / p99 / max ($rollouts rollouts)" \
    "$(jq -r '.switch_latency_ms | "\(.p50 * 10 | round / 10) / \(.p99 * 10 | round / 10) / \(.max * 10 | round / 10) ms"' <<< "$figures")" \
    "bench/run.sh release-rollouts"
  summary "API writes per rollout, besides status" \
    "$(jq -r 'def r: . * 100 | round / 100; .per_rollout as $p |
      "\($p.object_writes | r) (max \(.max_object_writes_in_a_rollout): \($p.deployment_writes | r) Deployment + \($p.service_writes | r) Service); + \($p.status_writes | r) status, \($p.event_writes | r) Events, \($p.conflicts_409 | r) conflicts"' <<< "$figures")" \
    "bench/run.sh release-rollouts"
  summary "writes in a ${quiet} s window with nothing changing" \
    "$(jq -r '.quiet_window | "\(.object_writes + .status_writes + .event_writes) (\(.reconciles) reconciles, \(.watch_events_seen) watch events)"' <<< "$figures")" \
    "bench/run.sh release-rollouts"
  delete_namespace "$ns"
}
