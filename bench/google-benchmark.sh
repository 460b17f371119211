# shellcheck shell=bash
# Shared by the Google Benchmark scenarios (sourced by their files, not a
# scenario itself): runs one binary with repetitions and records the median
# and spread of every benchmark.
#
# Knobs: BENCH_REPETITIONS (5), BENCH_MIN_TIME (0.5 seconds per repetition).

# run_google_benchmark <binary> [benchmark args...]
run_google_benchmark() {
  local binary=$1
  shift
  build_targets "$binary"
  local out=$RAW_DIR/$SCENARIO.json
  "$BENCH_BIN/$binary" --benchmark_repetitions="${BENCH_REPETITIONS:-5}" \
    --benchmark_min_time="${BENCH_MIN_TIME:-0.5}" --benchmark_report_aggregates_only=true \
    --benchmark_out="$out" --benchmark_out_format=json "$@" >&2
  result context "$(jq '.context' "$out")"
  result benchmarks "$(jq '[.benchmarks | group_by(.run_name)[]
    | (map(select(.aggregate_name == "median"))[0]) as $median
    | (map(select(.aggregate_name == "cv"))[0]) as $cv
    | {name: $median.run_name, time_unit: $median.time_unit,
       real_time: $median.real_time, cpu_time: $median.cpu_time,
       items_per_second: $median.items_per_second,
       bytes_per_second: $median.bytes_per_second,
       cpu_time_cv: $cv.cpu_time, repetitions: $median.repetitions}
      # user counters (whatever is not a standard field) as they are
      + ($median | with_entries(select(.key | IN("name", "family_index",
          "per_family_instance_index", "run_name", "run_type", "repetitions", "threads",
          "aggregate_name", "aggregate_unit", "iterations", "real_time", "cpu_time", "time_unit",
          "items_per_second", "bytes_per_second", "label", "error_occurred", "error_message",
          "repetition_index") | not)))]' "$out")"
}

# summary_google_benchmark <binary> <run_name> <figure> <unit: events|ops|bytes>
summary_google_benchmark() {
  local binary=$1 name=$2 figure=$3 unit=$4 value
  value=$(jq -r --arg name "$name" --arg unit "$unit" '
    def si: if . >= 1e6 then "\(. / 1e5 | round / 10)M" elif . >= 1e3 then "\(. / 1e2 | round / 10)k"
            else "\(. * 10 | round / 10)" end;
    .benchmarks[] | select(.name == $name)
    | (if $unit == "bytes" then "\(.bytes_per_second / 1073741824 * 10 | round / 10) GiB/s"
       else "\(.items_per_second | si) \($unit)/s" end)
      + (if $unit == "events" and .bytes_per_second then
           ", \(.bytes_per_second / 1048576 * 10 | round / 10) MiB/s" else "" end)
      + " (cv \(.cpu_time_cv * 100 | round)%)"' "$WORK_DIR/results/$SCENARIO.json")
  summary "$figure" "$value" \
    "${BUILD_DIR#"$REPO_ROOT"/}/bin/$binary --benchmark_filter='^$name\$'"
}
