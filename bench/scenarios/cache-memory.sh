# shellcheck shell=bash
# summary: informer cache RSS per 1,000 ConfigMaps of ~1 KiB and sync time, cd4ml vs client-go
#
# Creates BENCH_CACHE_OBJECTS (10000) ConfigMaps in one namespace, then, in a
# fresh process each time, starts an informer on it and compares RSS (from
# /proc/self/statm) before the start and after sync: cluster_bench
# cache-memory (ours) and clientgo-bench memory (client-go v0.35.4, with its
# default streaming watch-list sync and with paged lists like ours), each
# BENCH_REPEAT (3) times, interleaved; medians are reported. The same is done
# on an empty namespace to show the informer's fixed cost. The namespace is
# deleted (and waited for) at the end.

scenario_cache_memory() {
  local objects=${BENCH_CACHE_OBJECTS:-10000} repeat=${BENCH_REPEAT:-3}
  ensure_cluster
  build_targets cluster_bench
  local go_bench
  go_bench=$(clientgo_bench)
  local ns empty
  ns=$(bench_namespace cache)
  empty=$(bench_namespace cache-empty)

  local list=$WORK_DIR/cache-objects.json populated
  configmap_list "$ns" 0 "$objects" > "$list"
  populated=$("$BENCH_BIN/cluster_bench" populate --namespace "$ns" --objects "$list" --threads 8)
  result populate "$populated"
  log "created $objects ConfigMaps in $(jq '.seconds | round' <<< "$populated") s"
  local expect expect_empty
  expect=$((objects + $(root_ca_configmaps "$ns")))
  expect_empty=$(root_ca_configmaps "$empty")

  local raw=$RAW_DIR/cache-memory.jsonl rep target count
  : > "$raw"
  measure() {  # variant namespace expect command...
    local variant=$1 namespace=$2 count=$3
    shift 3
    "$@" --namespace "$namespace" --expect "$count" | jq -c --arg v "$variant" \
      --arg target "$([ "$namespace" = "$ns" ] && echo full || echo empty)" \
      '. + {variant: $v, target: $target}' >> "$raw"
  }
  for rep in $(seq "$repeat"); do
    log "cache-memory round $rep of $repeat"
    for target in "$ns" "$empty"; do
      count=$expect
      [ "$target" = "$empty" ] && count=$expect_empty
      measure cd4ml "$target" "$count" "$BENCH_BIN/cluster_bench" cache-memory
      measure client-go "$target" "$count" "$go_bench" memory --kubeconfig "$KUBECONFIG_FILE"
      measure client-go-paged-list "$target" "$count" \
        env KUBE_FEATURE_WatchListClient=false "$go_bench" memory --kubeconfig "$KUBECONFIG_FILE"
    done
  done
  delete_namespace "$ns" wait

  # Per run: growth from before start to after sync, raw and after giving free
  # pages back (malloc_trim / GC + FreeOSMemory), and the live heap's growth.
  local figures
  figures=$(jq -s '
    def med: sort | if length % 2 == 1 then .[length / 2 | floor]
                    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    map(. + {rss_growth: (.synced.rss_bytes - .before.rss_bytes),
             rss_growth_trimmed: (.synced_trimmed.rss_bytes - .before.rss_bytes),
             heap_growth: (.synced_trimmed.heap_in_use_bytes - .before.heap_in_use_bytes)})
    | group_by(.variant + "/" + .target)
    | map({key: (.[0].variant + "/" + .[0].target),
           value: {runs: length, objects: .[0].objects,
                   object_json_bytes_each: (.[0].object_json_bytes / ([.[0].objects, 1] | max)),
                   baseline_rss_bytes: (map(.before.rss_bytes) | med),
                   rss_growth_bytes: (map(.rss_growth) | med),
                   rss_growth_trimmed_bytes: (map(.rss_growth_trimmed) | med),
                   heap_growth_bytes: (map(.heap_growth) | med),
                   sync_seconds: (map(.sync_seconds) | med),
                   sync_cpu_seconds: (map(.sync_cpu_seconds) | med)}})
    | from_entries
    | with_entries(.value += (if .value.objects > 100 then
        {rss_per_1000_objects: (.value.rss_growth_bytes / .value.objects * 1000),
         rss_trimmed_per_1000_objects: (.value.rss_growth_trimmed_bytes / .value.objects * 1000),
         heap_per_1000_objects: (.value.heap_growth_bytes / .value.objects * 1000)} else {} end))
  ' "$raw")
  result figures "$figures"

  local variant
  for variant in cd4ml client-go client-go-paged-list; do
    summary "cache growth per 1,000 ConfigMaps, $variant" "$(jq -r --arg v "$variant/full" '.[$v] |
      "RSS \(.rss_per_1000_objects / 1048576 * 100 | round / 100) MiB" +
      " (\(.rss_trimmed_per_1000_objects / 1048576 * 100 | round / 100) trimmed)," +
      " heap \(.heap_per_1000_objects / 1048576 * 100 | round / 100) MiB"' <<< "$figures")" \
      "bench/run.sh cache-memory"
  done
  summary "cd4ml / client-go (paged list, like ours)" "$(jq -r '
    .["cd4ml/full"] as $a | .["client-go-paged-list/full"] as $b |
    "RSS \($a.rss_growth_bytes / $b.rss_growth_bytes * 100 | round / 100)x," +
    " trimmed \($a.rss_growth_trimmed_bytes / $b.rss_growth_trimmed_bytes * 100 | round / 100)x," +
    " heap \($a.heap_growth_bytes / $b.heap_growth_bytes * 100 | round / 100)x"' <<< "$figures")" \
    "bench/run.sh cache-memory"
  for variant in cd4ml client-go client-go-paged-list; do
    summary "sync of $expect ConfigMaps, $variant" "$(jq -r --arg v "$variant/full" '.[$v] |
      "\(.sync_seconds * 100 | round / 100) s, \(.sync_cpu_seconds * 100 | round / 100) CPU s"' \
      <<< "$figures")" "bench/run.sh cache-memory"
  done
  summary "baseline RSS / informer on an empty namespace" "$(jq -r '
    [("cd4ml", "client-go") as $v | .["\($v)/empty"] |
     "\($v) \(.baseline_rss_bytes / 1048576 * 10 | round / 10) MiB / +\(.rss_growth_bytes / 1024 | round) KiB"]
    | join(", ")' <<< "$figures")" "bench/run.sh cache-memory"
}
