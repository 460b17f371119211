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
LOG_PREFIX=demo # read by log() in cluster-lib.sh

NS=cd4ml-demo
clean=false
while [ $# -gt 0 ]; do
  case $1 in
    --namespace) [ $# -ge 2 ] || die "--namespace needs a value"; NS=$2; shift 2 ;;
    --namespace=*) NS=${1#*=}; shift ;;
    --clean) clean=true; shift ;;
    *) die "unknown argument '$1' (usage: demo-fake-trainer.sh [--namespace NS] [--clean])" ;;
  esac
done
load_env || die "no local cluster: run make cluster-up first"

EXAMPLES=$REPO_ROOT/docs/examples/fake-trainer
OPERATOR=$REPO_ROOT/build/bin/cd4ml-operator
# One operator per demo namespace, recorded like the cluster's components so
# cluster-down stops it too.
if [ "$NS" = cd4ml-demo ]; then OPERATOR_NAME=cd4ml-operator; else OPERATOR_NAME=cd4ml-operator.$NS; fi
export KUBECONFIG=$KUBECONFIG_FILE
kubectl() { "$CLUSTER_BIN_DIR/kubectl" "$@"; }

if $clean; then
  if [ -f "$(cmd_file "$OPERATOR_NAME")" ]; then
    stop_component "$OPERATOR_NAME"
    rm -f "$(cmd_file "$OPERATOR_NAME")"
  fi
  kubectl delete namespace "$NS" --ignore-not-found --wait=false
  exit 0
fi

if [ -t 1 ]; then
  B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' Y=$'\e[33m' R=$'\e[0m' JQ_COLOR=-C
else
  B='' D='' G='' Y='' R='' JQ_COLOR=-M
fi
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$R"; }
say() { printf '    %s\n' "$*"; }
show() { printf '%s    $ %s%s\n' "$D" "$*" "$R"; "$@" 2>&1 | sed 's/^/    /'; }
# apply <example file...>: shows the command, then lets the Events tell what
# happened (kubectl's own "created" lines would race with them).
apply() {
  local args=() f
  for f in "$@"; do args+=(-f "docs/examples/fake-trainer/$f"); done
  printf '%s    $ kubectl -n %s apply %s%s\n' "$D" "$NS" "${args[*]}" "$R"
  (cd "$REPO_ROOT" && kubectl -n "$NS" apply "${args[@]}" > /dev/null)
}

# wait_for <what> <seconds> <command...>: polls until the command succeeds.
wait_for() {
  local what=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@" > /dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "timed out waiting for $what (operator log: $(log_file "$OPERATOR_NAME"))"
    sleep 0.5
  done
}
jsonpath() { kubectl -n "$NS" get "$1" -o "jsonpath=$2" 2>/dev/null; }
equals() { [ "$(jsonpath "$1" "$2")" = "$3" ]; }

step "1/5 Installing the CRDs (crds/)"
kubectl apply --server-side --force-conflicts -f "$REPO_ROOT/crds" | sed 's/^/    /'
kubectl wait --for=condition=Established --timeout=60s \
  crd/trainingruns.cd4ml.io crd/modelreleases.cd4ml.io > /dev/null

step "2/5 Starting the operator"
stop_component "$OPERATOR_NAME" > /dev/null 2>&1 || true
metrics_port=$(pick_ports 2 | tr '\n' ' ')
read -r metrics_port health_port <<< "$metrics_port"
# Scoped to the demo's namespace, so it never competes with the operators
# the end-to-end tests start in theirs (make test on the same cluster).
write_cmd "$OPERATOR_NAME" -- "$OPERATOR" --kubeconfig="$KUBECONFIG_FILE" --namespace="$NS" \
  --metrics-bind-address="127.0.0.1:$metrics_port" \
  --health-probe-bind-address="127.0.0.1:$health_port"
launch_component "$OPERATOR_NAME"
wait_for "the operator's /readyz" 60 curl -sf "http://127.0.0.1:$health_port/readyz"
say "running as pid $(component_pid "$OPERATOR_NAME"), out of cluster, with the local kubeconfig,"
say "watching namespace $NS"
say "log:     $(log_file "$OPERATOR_NAME")"
say "metrics: http://127.0.0.1:$metrics_port/metrics   probes: http://127.0.0.1:$health_port/readyz"

# Everything the operator reports from here on, as it happens.
kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - > /dev/null
# ('|' separates fields: kubectl pads tabs into columns.) Each printed line is
# also appended to $events_seen, so the script can wait until one has shown.
events_seen=$(mktemp)
kubectl -n "$NS" get events --watch-only \
  -o 'jsonpath={.involvedObject.kind}/{.involvedObject.name}|{.reason}|{.message}{"\n"}' \
  2>/dev/null | while IFS='|' read -r object reason message; do
    case $object in TrainingRun/*|ModelRelease/*) ;; *) continue ;; esac
    color=$G
    case $reason in GateFailed|Failed|Aborted|ProgressDeadlineExceeded|InvalidMetrics) color=$Y ;; esac
    printf '    %s│ %-20s %s%-16s%s %s%s\n' "$D" "$object" "$color" "$reason" "$R$D" "$message" "$R"
    echo "$object $reason $message" >> "$events_seen"
  done &
events_pid=$!
trap 'kill $events_pid 2>/dev/null || true; rm -f "$events_seen"' EXIT
event_shown() { grep -q -- "$1" "$events_seen"; }

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
