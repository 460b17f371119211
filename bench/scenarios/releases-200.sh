# shellcheck shell=bash
# summary: 200 ModelReleases rolling out at once: time to all Healthy, operator peak RSS and CPU seconds
#
# Starts the operator watching a fresh namespace and creates
# BENCH_RELEASES (200) ModelReleases (uri + version, BENCH_RELEASE_REPLICAS
# (2) replicas each) from 8 threads at once; cluster_bench create-and-wait
# stamps each one Healthy on its version. Then it moves every release to a
# second version at once (a merge patch of spec.model) and times the 200
# blue/green rollouts to Healthy. The operator's /metrics around each phase
# gives writes, conflicts, reconciles and CPU seconds; peak RSS is VmHWM.

release_list() {  # namespace count version replicas
  jq -n --arg ns "$1" --argjson count "$2" --arg v "$3" --argjson replicas "$4" '
    {apiVersion: "v1", kind: "List", items: [range($count) as $i | {
      apiVersion: "cd4ml.io/v1alpha1", kind: "ModelRelease",
      metadata: {name: "bench-\($i)", namespace: $ns},
      spec: {model: {uri: "s3://models/bench-\($i)/\($v)", version: $v},
             replicas: $replicas,
             strategy: {blueGreen: {scaleDownDelaySeconds: 1}},
             template: {spec: {containers: [{name: "server", image: "registry.example/serve:1",
                                             ports: [{containerPort: 8080}]}]}}}}]}'
}

scenario_releases_200() {
  local count=${BENCH_RELEASES:-200} replicas=${BENCH_RELEASE_REPLICAS:-2}
  ensure_cluster
  ensure_crds
  build_targets cd4ml-operator cluster_bench
  local ns phase version mode waited delta m0 m1 m2
  ns=$(bench_namespace releases)
  # shellcheck disable=SC2086  # flags are words
  start_operator "$ns" "$RAW_DIR/releases-200.operator.log" ${BENCH_OPERATOR_FLAGS:-}
  m0=$WORK_DIR/rel-0.json
  operator_metrics > "$m0"
  local figures='{}'
  for phase in first rollout; do
    version=v1 mode=
    [ "$phase" = rollout ] && version=v2 mode=--patch
    release_list "$ns" "$count" "$version" "$replicas" > "$WORK_DIR/releases.json"
    log "releases-200: $phase ($count releases to $version)"
    # shellcheck disable=SC2086  # empty or one flag
    waited=$("$BENCH_BIN/cluster_bench" create-and-wait --namespace "$ns" \
      --resource modelreleases --objects "$WORK_DIR/releases.json" --threads 8 --deadline 1200 $mode)
    m1=$WORK_DIR/rel-$phase.json
    operator_metrics > "$m1"
    delta=$(metrics_delta "$m0" "$m1")
    echo "$delta" > "$RAW_DIR/releases-200.$phase.requests.json"
    figures=$(jq --arg p "$phase" --argjson w "$waited" --argjson d "$delta" --argjson n "$count" '
      def writes(r): [($d.by_resource[r] // {}) | to_entries[]
                      | select(.key | IN("create", "update", "patch", "apply", "delete")) | .value]
                     | add // 0;
      .[$p] = {all_healthy_seconds: $w.all_done_seconds, requests_seconds: $w.requests_seconds,
               healthy_since_first_request_ms: $w.done_since_first_request_ms,
               per_release: {object_writes: ((writes("deployments") + writes("services")) / $n),
                             status_writes: (writes("modelreleases/status") / $n),
                             event_writes: (writes("events") / $n),
                             reconciles: (($d.reconciles.modelrelease // 0) / $n)},
               conflicts_409: ($d.by_code["409"] // 0),
               operator_cpu_seconds: $d.cpu_seconds}' <<< "$figures")
    m0=$m1
  done
  m2=$(operator_peak_rss)
  stop_operator
  figures=$(jq --argjson rss "$m2" --argjson n "$count" --argjson r "$replicas" \
    '. + {releases: $n, replicas: $r, operator_peak_rss_mib: ($rss / 1048576)}' <<< "$figures")
  result figures "$figures"
  summary "time until $count new ModelReleases Healthy" \
    "$(jq -r '.first | "\(.all_healthy_seconds * 10 | round / 10) s (p50 \(.healthy_since_first_request_ms.p50 / 100 | round / 10) s), \(.operator_cpu_seconds * 10 | round / 10) CPU s, \(.per_release.object_writes) object writes/release"' <<< "$figures")" \
    "bench/run.sh releases-200"
  summary "time until $count blue/green rollouts Healthy" \
    "$(jq -r '.rollout | "\(.all_healthy_seconds * 10 | round / 10) s (p50 \(.healthy_since_first_request_ms.p50 / 100 | round / 10) s), \(.operator_cpu_seconds * 10 | round / 10) CPU s, \(.per_release.object_writes) object writes/rollout, \(.conflicts_409) conflicts"' <<< "$figures")" \
    "bench/run.sh releases-200"
  summary "operator peak RSS ($count releases, $((count * replicas)) pods)" \
    "$(jq -r '"\(.operator_peak_rss_mib * 10 | round / 10) MiB"' <<< "$figures")" \
    "bench/run.sh releases-200"
  delete_namespace "$ns"
}
