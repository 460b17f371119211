# shellcheck shell=bash
# summary: create-to-reconcile latency p50/p99 at a steady create rate, cd4ml vs client-go
#
# In one process: an informer + Controller (ours: cluster_bench
# reconcile-latency; client-go: informer + rate-limited workqueue + one
# worker, clientgo-bench latency) and a client that creates
# BENCH_LATENCY_OBJECTS (500) ConfigMaps at BENCH_LATENCY_RATE (20) per
# second. Per object: from just before its create request is sent (the
# client's create call; steady clock) to its add handler and to the start of
# its reconcile. BENCH_LATENCY_RUNS (3) rounds, the two clients alternating,
# each in a fresh namespace; the medians of the rounds are reported.

scenario_reconcile_latency() {
  local objects=${BENCH_LATENCY_OBJECTS:-500} rate=${BENCH_LATENCY_RATE:-20}
  local runs=${BENCH_LATENCY_RUNS:-3}
  ensure_cluster
  build_targets cluster_bench
  local go_bench
  go_bench=$(clientgo_bench)

  local raw=$RAW_DIR/reconcile-latency.jsonl run variant ns list
  : > "$raw"
  for run in $(seq "$runs"); do
    for variant in cd4ml client-go; do
      log "reconcile-latency round $run of $runs: $variant, $objects objects at $rate/s"
      ns=$(bench_namespace "latency-$variant")
      list=$WORK_DIR/latency-objects.json
      configmap_list "$ns" 0 "$objects" > "$list"
      if [ "$variant" = cd4ml ]; then
        "$BENCH_BIN/cluster_bench" reconcile-latency --namespace "$ns" --objects "$list" \
          --rate "$rate" >> "$raw"
      else
        "$go_bench" latency --kubeconfig "$KUBECONFIG_FILE" --namespace "$ns" --objects "$list" \
          --rate "$rate" >> "$raw"
      fi
      delete_namespace "$ns"
    done
  done

  local figures
  figures=$(jq -s '
    def med: sort | if length % 2 == 1 then .[length / 2 | floor]
                    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    group_by(.client) | map({key: .[0].client, value: {
      runs: length, objects_per_run: .[0].objects, rate_per_second: .[0].rate_per_second,
      achieved_rate_per_second: (map(.achieved_rate_per_second) | med),
      create_to_reconcile_p50_ms: (map(.create_to_reconcile_ms.p50) | med),
      create_to_reconcile_p99_ms: (map(.create_to_reconcile_ms.p99) | med),
      create_to_reconcile_max_ms: (map(.create_to_reconcile_ms.max) | max),
      create_to_handler_p50_ms: (map(.create_to_handler_ms.p50) | med),
      create_to_handler_p99_ms: (map(.create_to_handler_ms.p99) | med),
      handler_to_reconcile_p50_ms: (map(.handler_to_reconcile_ms.p50) | med),
      handler_to_reconcile_p99_ms: (map(.handler_to_reconcile_ms.p99) | med),
      create_round_trip_p50_ms: (map(.create_round_trip_ms.p50) | med),
      create_round_trip_p99_ms: (map(.create_round_trip_ms.p99) | med)}})
    | from_entries' "$raw")
  result figures "$figures"

  for variant in cd4ml client-go; do
    summary "create-to-reconcile p50 / p99, $variant" "$(jq -r --arg v "$variant" '
      def ms(p50; p99): "\(p50 * 100 | round / 100) / \(p99 * 100 | round / 100)";
      .[$v] | "\(ms(.create_to_reconcile_p50_ms; .create_to_reconcile_p99_ms)) ms" +
      " (to handler \(ms(.create_to_handler_p50_ms; .create_to_handler_p99_ms));" +
      " handler to reconcile \(ms(.handler_to_reconcile_p50_ms; .handler_to_reconcile_p99_ms));" +
      " create call \(ms(.create_round_trip_p50_ms; .create_round_trip_p99_ms)))"' \
      <<< "$figures")" "bench/run.sh reconcile-latency"
  done
  summary "cd4ml / client-go, create-to-reconcile" "$(jq -r '
    .cd4ml as $a | .["client-go"] as $b |
    "p50 \($a.create_to_reconcile_p50_ms / $b.create_to_reconcile_p50_ms * 100 | round / 100)x," +
    " p99 \($a.create_to_reconcile_p99_ms / $b.create_to_reconcile_p99_ms * 100 | round / 100)x"' \
    <<< "$figures")" "bench/run.sh reconcile-latency"
}
