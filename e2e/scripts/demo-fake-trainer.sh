#!/usr/bin/env bash
# The operator's story with kwok playing the trainer and the servers: no real
# node needed (CD4ML_REAL_NODE=0 clusters), nothing really trained or served.
# `make demo` runs the real one, e2e/scripts/demo.sh. Steps:
#   1. install the CRDs;  2. start the operator;  3. train two experiments;
#   4. release the first;  5. roll out the second through preview and gates.
# It narrates what happens as it happens, then leaves everything running.
#
#   demo-fake-trainer.sh [--namespace NS]           run the demo in NS (default cd4ml-demo)
#   demo-fake-trainer.sh [--namespace NS] --clean   stop that demo's operator, delete NS
# (e2e/tests/demo_test.cpp runs it in a namespace of its own, so a demo a
# developer left running is never disturbed by make test.)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=cluster-lib.sh disable=SC2034
source "$(dirname "$0")/cluster-lib.sh"
# shellcheck source-path=SCRIPTDIR source=demo-lib.sh
source "$(dirname "$0")/demo-lib.sh"
LOG_PREFIX=demo # read by log() in cluster-lib.sh

demo_args "$@"
demo_init
EXAMPLES=$REPO_ROOT/docs/examples/fake-trainer
if $clean; then
  demo_clean
  exit 0
fi

# apply <example file...>: shows the command, then lets the Events tell what
# happened (kubectl's own "created" lines would race with them).
apply() {
  local args=() f
  for f in "$@"; do args+=(-f "docs/examples/fake-trainer/$f"); done
  printf '%s    $ kubectl -n %s apply %s%s\n' "$D" "$NS" "${args[*]}" "$R"
  (cd "$REPO_ROOT" && kubectl -n "$NS" apply "${args[@]}" > /dev/null)
}

demo_install_crds 1/5
demo_start_operator 2/5
demo_watch_events
trap demo_stop_events EXIT

step "3/5 Training two experiments of the churn model (different params)"
apply trainingrun-churn-v1.yaml trainingrun-churn-v2.yaml
wait_for "both TrainingRuns to succeed" 180 \
  kubectl -n "$NS" wait --for=condition=Ready --timeout=2s tr/churn-v1 tr/churn-v2
show kubectl -n "$NS" get tr -o custom-columns='NAME:.metadata.name,VERSION:.status.modelVersion,PHASE:.status.phase,LEARNING_RATE:.spec.params.learning_rate,ACCURACY:.status.metrics.accuracy,AUC:.status.metrics.auc'
v1=$(jsonpath tr/churn-v1 '{.status.modelVersion}')
v2=$(jsonpath tr/churn-v2 '{.status.modelVersion}')
say "Each version is the first 12 hex of sha256 over the run's code, data, trainer and"
say "params (docs/concepts.md shows how to recompute it with jq)."

step "4/5 Releasing churn-v1 ($v1) behind the Services churn and churn-preview"
apply modelrelease-churn.yaml
wait_for "the release to become Healthy on $v1" 120 equals mr/churn '{.status.phase}/{.status.activeModelVersion}' "Healthy/$v1"
show kubectl -n "$NS" get mr churn
show kubectl -n "$NS" get svc,deploy -l cd4ml.io/release=churn

step "5/5 Rolling out churn-v2 ($v2): preview, then gates (accuracy >= 0.85, auc no worse), then the switch"
say "(what a merged pull request would do in Git: point spec.model at the new run)"
show kubectl -n "$NS" patch mr churn --type=merge -p '{"spec":{"model":{"trainingRunRef":{"name":"churn-v2"}}}}'
wait_for "churn-v2 to go live" 120 equals mr/churn '{.status.phase}/{.status.activeModelVersion}' "Healthy/$v2"
show kubectl -n "$NS" get cd4ml
say "Gate results of the new revision:"
kubectl -n "$NS" get mr churn -o jsonpath='{range .status.revisions[-1:].gates[*]}      {.passed}  {.rule}: {.message}{"\n"}{end}'
say "Lineage of the model now serving (status.lineage):"
kubectl -n "$NS" get mr churn -o jsonpath='{.status.lineage}' | jq "$JQ_COLOR" . 2>/dev/null | sed 's/^/      /' \
  || kubectl -n "$NS" get mr churn -o jsonpath='{.status.lineage}'
wait_for "the Promoted Event to print" 30 event_shown "Promoted.*$v2"
kill "$events_pid" 2>/dev/null || true

step "Done. The cluster and the operator keep running."
cat <<EOF
    Look around:
      export KUBECONFIG=$KUBECONFIG_FILE PATH=$CLUSTER_BIN_DIR:\$PATH
      kubectl -n $NS get cd4ml                   # both kinds at once
      kubectl -n $NS describe mr churn           # conditions, revisions, events
      kubectl -n $NS get mr churn -o yaml        # status.revisions and status.lineage
      kubectl -n $NS get svc churn -o jsonpath='{.spec.selector}'
      tail -f $(log_file "$OPERATOR_NAME")
      curl -s http://127.0.0.1:$metrics_port/metrics | grep controller_runtime_reconcile_total

    Try a rejection (an experiment worse than what is live):
      cat $EXAMPLES/trainingrun-churn-v3-worse.yaml

    Roll back (instant: churn-v1's Deployment is kept at 0 replicas):
      kubectl -n $NS patch mr churn --type=merge -p '{"spec":{"model":{"trainingRunRef":{"name":"churn-v1"}}}}'

    Remove only the demo (its operator and namespace):
      e2e/scripts/demo-fake-trainer.sh --namespace $NS --clean
    Tear down everything (the operator and the control plane, removes .cluster/):
      make cluster-down
EOF
