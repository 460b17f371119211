# shellcheck shell=bash
# summary: watch event decode + dispatch throughput from a recorded stream (Google Benchmark), vs client-go
#
# The stream (bench/data/configmap-watch.jsonl.gz, 2,003 events of ~1.4 KiB,
# made by bench/record-watch-stream.sh) goes through LineSplitter,
# parse_watch_event, InformerCache/Store and no-op handlers, fed in 4 KiB and
# 64 B pieces. The same bytes then go through client-go's watch decoding
# (StreamWatcher) and a SharedIndexInformer (clientgo-bench decode). Rates are
# per CPU second on both sides (Google Benchmark's items_per_second uses CPU
# time), since this machine's cores are shared. Needs no cluster.
#
# Knobs: BENCH_REPETITIONS, BENCH_MIN_TIME (see bench/google-benchmark.sh).

# shellcheck source=bench/google-benchmark.sh
source "$REPO_ROOT/bench/google-benchmark.sh"

scenario_watch_decode() {
  run_google_benchmark watch_decode_bench
  local b=watch_decode_bench
  summary_google_benchmark $b BM_DecodeAndDispatch/chunk:4096 \
    "decode+store+dispatch, 4 KiB pieces" events
  summary_google_benchmark $b BM_DecodeAndDispatch/chunk:64 \
    "decode+store+dispatch, 64 B pieces" events
  summary_google_benchmark $b BM_DecodeAndEnqueue/chunk:4096 \
    "decode+store+enqueue (controller handler), 4 KiB" events
  summary_google_benchmark $b BM_ParseWatchEvent "JSON parse of an event alone" events
  summary_google_benchmark $b BM_SplitLines/chunk:4096 "line splitting alone, 4 KiB" bytes
  summary_google_benchmark $b BM_SplitLines/chunk:64 "line splitting alone, 64 B" bytes

  local go_bench stream=$BUILD_DIR/bench/configmap-watch.jsonl raw=$RAW_DIR/watch-decode-clientgo.jsonl
  go_bench=$(clientgo_bench)
  : > "$raw"
  local mode chunk
  for mode in informer decode; do
    for chunk in 4096 64; do
      "$go_bench" decode --stream "$stream" --mode "$mode" --chunk "$chunk" \
        --min-time "${BENCH_MIN_TIME:-0.5}s" >> "$raw"
    done
  done
  result client_go "$(jq -s . "$raw")"

  # Pairs: our benchmark, client-go's mode and piece size, the figure's name.
  local pairs=(
    "BM_DecodeAndDispatch/chunk:4096 informer 4096 informer (decode+store+dispatch), 4 KiB"
    "BM_DecodeAndDispatch/chunk:64 informer 64 informer (decode+store+dispatch), 64 B"
    "BM_ParseWatchEvent decode 4096 decoding alone"
  )
  local pair ours figure
  for pair in "${pairs[@]}"; do
    read -r ours mode chunk figure <<< "$pair"
    summary "client-go $figure" "$(jq -r --arg m "$mode" --argjson c "$chunk" '
      select(.mode == $m and .chunk_bytes == $c) |
      "\(.events_per_cpu_second / 100 | round / 10)k events/CPU-s" +
      " (\(.events_per_second / 100 | round / 10)k/s wall)"' "$raw")" \
      "$(basename "$go_bench") decode --stream ${stream#"$REPO_ROOT"/} --mode $mode --chunk $chunk"
    summary "cd4ml / client-go, $figure" "$(jq -r -n --arg m "$mode" --argjson c "$chunk" \
      --arg ours "$ours" --slurpfile go "$raw" --slurpfile us "$WORK_DIR/results/$SCENARIO.json" '
      ($us[0].benchmarks[] | select(.name == $ours) | .items_per_second) as $a |
      ($go[] | select(.mode == $m and .chunk_bytes == $c) | .events_per_cpu_second) as $b |
      "\($a / $b * 100 | round / 100)x events per CPU second"')" "bench/run.sh watch-decode"
  done
}
