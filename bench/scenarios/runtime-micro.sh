# shellcheck shell=bash
# summary: Store and WorkQueue micro-benchmarks (Google Benchmark), on the recorded stream's objects
#
# Needs no cluster.

# shellcheck source=bench/google-benchmark.sh
source "$REPO_ROOT/bench/google-benchmark.sh"

scenario_runtime_micro() {
  run_google_benchmark runtime_micro_bench
  local b=runtime_micro_bench
  summary_google_benchmark $b BM_StoreUpsertNew "Store upsert, new key (3 indexes)" ops
  summary_google_benchmark $b BM_StoreUpsertExisting "Store upsert, existing key" ops
  summary_google_benchmark $b BM_StoreGet "Store get by namespace/name" ops
  summary_google_benchmark $b BM_StoreByLabel "Store by_label, 100 of 1,001 match" ops
  summary_google_benchmark $b BM_WorkQueueCycle "WorkQueue add+get+done+forget" ops
  summary_google_benchmark $b BM_WorkQueueAddDuplicate "WorkQueue add of a queued key" ops
  summary "heap per cached ConfigMap: JSON text / tree / store+indexes" "$(jq -r '
    .benchmarks[] | select(.name == "BM_CachedObjectFootprint") |
    "\(.json_text_bytes | round) B / \(.json_tree_bytes | round) B / \(.store_index_bytes | round) B"' \
    "$WORK_DIR/results/$SCENARIO.json")" \
    "${BUILD_DIR#"$REPO_ROOT"/}/bin/$b --benchmark_filter='^BM_CachedObjectFootprint\$'"
}
