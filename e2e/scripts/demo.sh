#!/usr/bin/env bash
# The operator's main job, for real, on the local cluster's real node (`make
# demo` runs set-up, the build and cluster-up first):
#   1. install the CRDs;  2. start the operator;  3. build the reference
#   model's images (examples/churn);  4. train churn-v1 on data v1;
#   5. serve it and send it traffic;  6. train churn-v2 on data v2 and roll it
#   out blue/green while the traffic runs;  7. train a bad churn-v3 that the
#   gates reject;  8. what the traffic saw, and how to look around.
# It narrates what happens as it happens, then leaves everything running.
# Without a real node (CD4ML_REAL_NODE=0), demo-fake-trainer.sh tells the
# story with kwok playing trainer and servers.
#
#   demo.sh [--namespace NS]           run the demo in NS (default cd4ml-demo)
#   demo.sh [--namespace NS] --clean   stop that demo's operator, delete NS
# (e2e/tests/real_node/demo_test.cpp runs it in a namespace of its own.)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=cluster-lib.sh disable=SC2034
source "$(dirname "$0")/cluster-lib.sh"
# shellcheck source-path=SCRIPTDIR source=demo-lib.sh
source "$(dirname "$0")/demo-lib.sh"
LOG_PREFIX=demo # read by log() in cluster-lib.sh

demo_args "$@"
demo_init
EXAMPLES=$REPO_ROOT/docs/examples
# The model volume: a directory of this machine (the real node), one per
# demo namespace, removed with the cluster (it is under .cluster/).
MODELS_DIR=$CLUSTER_DIR/models/$NS
CHURN_UID=10001 # the churn images' user (examples/churn/Dockerfile.*)
if $clean; then
  demo_clean
  rm -rf "$MODELS_DIR"
  exit 0
fi
[ "${REAL_NODE:-0}" = 1 ] ||
  die "the local cluster runs without its real node (CD4ML_REAL_NODE=0): restart it with one (make cluster-down cluster-up), or run e2e/scripts/demo-fake-trainer.sh"

# apply <example file...>: shows the command, applies the file with this
# machine's model directory filled in, and lets the Events tell the rest.
apply() {
  local f
  for f in "$@"; do
    printf '%s    $ kubectl -n %s apply -f docs/examples/%s%s\n' "$D" "$NS" "$f" "$R"
    sed "s|MODELS_DIR|$MODELS_DIR|" "$EXAMPLES/$f" | kubectl -n "$NS" apply -f - > /dev/null
  done
}

run_done() { [[ "$(jsonpath "tr/$1" '{.status.phase}')" =~ ^(Succeeded|Failed)$ ]]; }
runs_table() {
  show kubectl -n "$NS" get tr -o custom-columns='NAME:.metadata.name,VERSION:.status.modelVersion,PHASE:.status.phase,DATA:.spec.data.version,TREES:.spec.params.n_estimators,DEPTH:.spec.params.max_depth,AUC:.status.metrics.auc,ACCURACY:.status.metrics.accuracy'
}

demo_install_crds 1/8
demo_start_operator 2/8

step "3/8 The reference model's images (examples/churn: scikit-learn trainer, MLServer server)"
say "built once per content of examples/churn and imported into the real node's containerd"
"$REPO_ROOT/e2e/images/build-image.sh" --import churn-trainer churn-server 2>&1 | sed 's/^/    /'
mkdir -p "$MODELS_DIR"
chown "$CHURN_UID:$CHURN_UID" "$MODELS_DIR"
say "model volume: $MODELS_DIR (a hostPath on the real node, shared by trainer and servers)"

demo_watch_events
traffic_summary=$(mktemp)
traffic_pid=
cleanup() {
  demo_stop_events
  [ -z "$traffic_pid" ] || kill "$traffic_pid" 2>/dev/null || true
  rm -f "$traffic_summary"
}
trap cleanup EXIT

step "4/8 Training churn-v1 for real: gradient boosting on data set v1"
apply trainingrun-churn-v1.yaml
wait_for "churn-v1 to finish" 600 run_done churn-v1
equals tr/churn-v1 '{.status.phase}' Succeeded || die "churn-v1 did not succeed: $(jsonpath tr/churn-v1 '{.status.failure.message}')"
runs_table
v1=$(jsonpath tr/churn-v1 '{.status.modelVersion}')
say "The trainer wrote $MODELS_DIR/churn/$v1/model.joblib; its sha256 is in status.artifactDigest:"
say "  $(jsonpath tr/churn-v1 '{.status.artifactDigest}')  (the file: sha256:$(sha256sum "$MODELS_DIR/churn/$v1/model.joblib" | cut -c1-64))"

step "5/8 Serving churn-v1 ($v1) on the real node behind the Services churn and churn-preview"
apply modelrelease-churn.yaml
wait_for "the release to become Healthy on $v1" 300 equals mr/churn '{.status.phase}/{.status.activeModelVersion}' "Healthy/$v1"
show kubectl -n "$NS" get mr churn
show kubectl -n "$NS" get pods -l cd4ml.io/release=churn -o wide
ip=$(jsonpath svc/churn '{.spec.clusterIP}')
# Traffic before kube-proxy's rule exists would leave conntrack entries that
# outlive the rule (e2e/support/real_node.hpp, wait_for_proxy_rules).
wait_for "kube-proxy's rule for $ip" 60 bash -c "iptables-save -t nat | grep -q -- '-d $ip/32'"
predict=$(cat <<EOF
curl -s http://$ip/v2/models/churn/infer -H 'Content-Type: application/json' -d '{"inputs":[{"name":"input-0","shape":[1,8],"datatype":"FP64","data":[5,117.91,12,1,2,17,19.3,1]}]}'
EOF
)
say "A prediction through the active Service:"
printf '%s    $ %s%s\n' "$D" "$predict" "$R"
bash -c "$predict" | jq -c '{model_version, revision: .parameters.revision, outputs: [.outputs[] | {name, data}]}' | sed 's/^/    /'
say "Customers keep calling it: 20 requests/s drawn from data v2, with the true outcome"
say "sent to /feedback 2 s later (python3 -m churn.traffic, examples/churn). Each request on a"
say "connection of its own: a kept-alive one stays with the pod it first reached, old revision or not."
PYTHONPATH=$REPO_ROOT/examples/churn python3 -m churn.traffic --url "http://$ip" --data v2 \
  --rate 20 --feedback-delay 2 --no-keep-alive --report-every 0 --summary "$traffic_summary" \
  > /dev/null 2>&1 &
traffic_pid=$!

step "6/8 Training churn-v2 on data set v2 (customers changed) and rolling it out under traffic"
apply trainingrun-churn-v2.yaml
wait_for "churn-v2 to finish" 600 run_done churn-v2
equals tr/churn-v2 '{.status.phase}' Succeeded || die "churn-v2 did not succeed: $(jsonpath tr/churn-v2 '{.status.failure.message}')"
v2=$(jsonpath tr/churn-v2 '{.status.modelVersion}')
runs_table
say "(what a merged pull request would do in Git: point spec.model at the new run)"
show kubectl -n "$NS" patch mr churn --type=merge -p '{"spec":{"model":{"trainingRunRef":{"name":"churn-v2"}}}}'
wait_for "churn-v2 to go live" 300 equals mr/churn '{.status.phase}/{.status.activeModelVersion}' "Healthy/$v2"
say "Gate results of the new revision:"
kubectl -n "$NS" get mr churn -o jsonpath='{range .status.revisions[-1:].gates[*]}      {.passed}  {.rule}: {.message}{"\n"}{end}'

step "7/8 A bad experiment: churn-v3-bad-params (one decision stump) is trained, then rejected by the gates"
apply trainingrun-churn-v3-bad-params.yaml
wait_for "churn-v3-bad-params to finish" 600 run_done churn-v3-bad-params
v3=$(jsonpath tr/churn-v3-bad-params '{.status.modelVersion}')
runs_table
show kubectl -n "$NS" patch mr churn --type=merge -p '{"spec":{"model":{"trainingRunRef":{"name":"churn-v3-bad-params"}}}}'
wait_for "the gates to reject churn-v3-bad-params" 300 event_shown "GateFailed.*$v3"
kubectl -n "$NS" get mr churn -o jsonpath='{range .status.revisions[-1:].gates[*]}      {.passed}  {.rule}: {.message}{"\n"}{end}'
equals mr/churn '{.status.activeModelVersion}' "$v2" || die "the active model changed after a rejection"
say "churn-v2 still serves. Reverting spec.model (the pull request's revert) makes the release Healthy again:"
show kubectl -n "$NS" patch mr churn --type=merge -p '{"spec":{"model":{"trainingRunRef":{"name":"churn-v2"}}}}'
wait_for "the release to be Healthy on $v2 again" 120 equals mr/churn '{.status.phase}/{.status.activeModelVersion}' "Healthy/$v2"
say "Lineage of the model now serving (status.lineage):"
kubectl -n "$NS" get mr churn -o jsonpath='{.status.lineage}' | jq "$JQ_COLOR" 'del(.metrics)' | sed 's/^/      /'

step "8/8 What the customers saw"
kill -TERM "$traffic_pid"
wait "$traffic_pid" || true
traffic_pid=
jq -r '"    requests \(.requests), failed \(.failures | add // 0) \(.failures), latency p50 \(.latency_ms.p50) ms p99 \(.latency_ms.p99) ms",
       "    answered by model version: \(.model_versions)",
       "    live accuracy by revision (feedback): \(.outcomes_by_revision | to_entries | map("\(.key) \(.value.correct)/\(.value.correct + .value.incorrect)") | join(", "))"' \
  "$traffic_summary"
failed=$(jq '.failures | add // 0' "$traffic_summary")
[ "$failed" = 0 ] || die "$failed requests failed during the rollout"
kill "$events_pid" 2>/dev/null || true

step "Done. The cluster, the operator and the model servers keep running."
cat <<EOF
    Ask the model:
      $predict
    Requests per revision in Prometheus (scraped from the servers every 5 s):
      curl -s http://127.0.0.1:$PROMETHEUS_PORT/api/v1/query --data-urlencode 'query=sum by (revision, model_version) (cd4ml_model_requests_total{namespace="$NS"})' | jq '.data.result'
    Look around:
      export KUBECONFIG=$KUBECONFIG_FILE PATH=$CLUSTER_BIN_DIR:\$PATH
      kubectl -n $NS get cd4ml                   # both kinds at once
      kubectl -n $NS describe mr churn           # conditions, revisions, events
      kubectl -n $NS get tr churn-v2 -o jsonpath='{.status.baseline}'   # for drift detection
      tail -f $(log_file "$OPERATOR_NAME")

    Roll back (instant: churn-v1's Deployment is kept at 0 replicas):
      kubectl -n $NS patch mr churn --type=merge -p '{"spec":{"model":{"trainingRunRef":{"name":"churn-v1"}}}}'

    Remove only the demo (its operator, namespace and models):
      e2e/scripts/demo.sh --namespace $NS --clean
    Tear down everything (the operator and the control plane, removes .cluster/):
      make cluster-down
EOF
