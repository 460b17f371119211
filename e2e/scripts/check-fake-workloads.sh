#!/usr/bin/env bash
# Checks every fake workload behaviour of the local control plane (the kwok
# stages in e2e/kwok/stages, documented in docs/local-cluster.md) against the
# running cluster, in a throw-away namespace. Run it after changing a stage:
#
#   make cluster-up && e2e/scripts/check-fake-workloads.sh
#
# Prints one line per check and exits non-zero on the first failure.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"
LOG_PREFIX=check-fake-workloads # read by log() in cluster-lib.sh
load_env || die "no cluster in $CLUSTER_DIR (run make cluster-up)"
ns=fake-workload-check-$$
kubectl() { "$CLUSTER_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" -n "$ns" "$@"; }
cleanup() { kubectl delete namespace "$ns" --wait=false > /dev/null 2>&1 || true; }
trap cleanup EXIT

pass() { echo "ok   $*"; }
fail() { echo "FAIL $*" >&2; kubectl get pods,jobs,deployments -o wide >&2 || true; exit 1; }

# eventually <seconds> <description> <command...>: polls until the command succeeds.
eventually() {
  local timeout=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@" > /dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "$what (not within ${timeout}s)"
    sleep 0.2
  done
}
# pod_json <job or app label selector>: the first matching pod's JSON.
pod_json() { kubectl get pods -l "$1" -o json | jq -e '.items[0]'; }
jq_true() { local sel=$1; shift; pod_json "$sel" | jq -e "$@" > /dev/null; }

job() { # job <name> <env JSON array> [extra container JSON]
  local extra=${3:-}
  kubectl apply -f - > /dev/null <<EOF
{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "$1"},
 "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
   "containers": [{"name": "main", "image": "example.invalid/trainer:1", "env": $2}${extra:+, $extra}]}}}}
EOF
}
deployment() { # deployment <name> <replicas> <env JSON array>
  kubectl apply -f - > /dev/null <<EOF
{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "$1"},
 "spec": {"replicas": $2, "progressDeadlineSeconds": 5, "selector": {"matchLabels": {"app": "$1"}},
   "template": {"metadata": {"labels": {"app": "$1"}},
     "spec": {"containers": [{"name": "server", "image": "example.invalid/server:1", "env": $3}]}}}}
EOF
}

"$CLUSTER_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" create namespace "$ns" > /dev/null
eventually 30 "ServiceAccount $ns/default exists" kubectl get serviceaccount default

# Nodes.
[ "$("$CLUSTER_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" get nodes -l type=kwok \
  -o jsonpath='{.items[*].status.conditions[?(@.type=="Ready")].status}')" != "" ] \
  || fail "no fake Node found"
pass "fake Nodes are Ready"

# Deployments become Available; their pods Running, Ready, with IPs.
deployment web 2 '[]'
kubectl wait --for=condition=Available deployment/web --timeout=30s > /dev/null \
  || fail "Deployment web did not become Available"
jq_true app=web '.status.phase == "Running" and (.status.podIP | length > 0)
  and ([.status.conditions[] | select(.type == "Ready" or .type == "ContainersReady") | .status] == ["True", "True"])
  and (.status.containerStatuses[0].ready == true)' || fail "Deployment pod status"
pass "Deployment of 2 becomes Available; pods Running+Ready with podIP"

# Jobs.
long_message=$(printf 'x%.0s' $(seq 1 5000))END
job plain '[]'
job exit3 '[{"name": "KWOK_EXIT_CODE", "value": "3"}, {"name": "KWOK_TERMINATION_MESSAGE", "value": "trainer crashed"}]'
job message '[{"name": "KWOK_TERMINATION_MESSAGE", "value": "{\"metrics\": {\"accuracy\": 0.9}, \"note\": \"a\\nb \\\"q\\\" ü\"}"}]' \
  '{"name": "sidecar", "image": "example.invalid/sidecar:1"}'
job long "[{\"name\": \"KWOK_TERMINATION_MESSAGE\", \"value\": \"$long_message\"}]"
job hold '[{"name": "KWOK_HOLD", "value": "1"}]'
job slow '[{"name": "KWOK_DURATION", "value": "3s"}]'
start=$SECONDS

kubectl wait --for=condition=Complete job/plain --timeout=30s > /dev/null || fail "Job plain did not complete"
jq_true job-name=plain '.status.phase == "Succeeded"
  and .status.containerStatuses[0].state.terminated.exitCode == 0
  and .status.containerStatuses[0].state.terminated.reason == "Completed"
  and (.status.containerStatuses[0].state.terminated | has("message") | not)' || fail "Job plain pod status"
pass "Job without KWOK_* env completes with exit code 0"

kubectl wait --for=condition=Failed job/exit3 --timeout=30s > /dev/null || fail "Job exit3 did not fail"
jq_true job-name=exit3 '.status.phase == "Failed"
  and .status.containerStatuses[0].state.terminated.exitCode == 3
  and .status.containerStatuses[0].state.terminated.reason == "Error"
  and .status.containerStatuses[0].state.terminated.message == "trainer crashed"' || fail "Job exit3 pod status"
pass "KWOK_EXIT_CODE=3 fails the pod with exit code 3, reason Error, and its message"

kubectl wait --for=condition=Complete job/message --timeout=30s > /dev/null || fail "Job message did not complete"
got=$(pod_json job-name=message | jq -r '.status.containerStatuses[0].state.terminated.message')
[ "$got" = "$(printf '{"metrics": {"accuracy": 0.9}, "note": "a\\nb \\"q\\" ü"}')" ] \
  || fail "termination message came back as: $got"
jq_true job-name=message '.status.containerStatuses[1].state.terminated.exitCode == 0' || fail "second container"
pass "KWOK_TERMINATION_MESSAGE arrives byte for byte in containerStatuses[0].state.terminated.message"

kubectl wait --for=condition=Complete job/long --timeout=30s > /dev/null || fail "Job long did not complete"
got=$(pod_json job-name=long | jq -r '.status.containerStatuses[0].state.terminated.message')
if [ ${#got} -ne 4096 ] || [ "${got: -3}" != END ]; then
  fail "long message: ${#got} bytes, ends '${got: -3}'"
fi
pass "a termination message over 4096 bytes keeps its last 4096 bytes (like the kubelet)"

kubectl wait --for=condition=Complete job/slow --timeout=30s > /dev/null || fail "Job slow did not complete"
[ $((SECONDS - start)) -ge 3 ] || fail "Job slow finished before its KWOK_DURATION of 3s"
pass "KWOK_DURATION=3s keeps the pod Running for 3s"

jq_true job-name=hold '.status.phase == "Running"' || fail "KWOK_HOLD pod is not Running"
hold_pod=$(pod_json job-name=hold | jq -r .metadata.name)
kubectl delete pod "$hold_pod" --wait=true --timeout=30s > /dev/null || fail "deleting the held pod"
kubectl wait --for=condition=Failed job/hold --timeout=30s > /dev/null || fail "Job hold did not fail after its pod was deleted"
pass "KWOK_HOLD=1 stays Running ($((SECONDS - start))s) until deleted; deletion fails the Job"

# KWOK_READY_DELAY: Pending that long, then Running+Ready.
start=$SECONDS
deployment late 1 '[{"name": "KWOK_READY_DELAY", "value": "2s"}]'
eventually 30 "KWOK_READY_DELAY pod scheduled" jq_true app=late '.spec.nodeName != null'
jq_true app=late '.status.phase == "Pending"' || fail "KWOK_READY_DELAY pod did not stay Pending"
kubectl wait --for=condition=Available deployment/late --timeout=30s > /dev/null \
  || fail "Deployment late did not become Available"
[ $((SECONDS - start)) -ge 2 ] || fail "KWOK_READY_DELAY=2s pod was Ready before 2s"
pass "KWOK_READY_DELAY=2s keeps a pod Pending for 2s, then it is Running+Ready"

# KWOK_NOT_READY: Running, never Ready, Deployment never Available.
deployment unready 1 '[{"name": "KWOK_NOT_READY", "value": "1"}]'
eventually 30 "KWOK_NOT_READY pod Running" jq_true app=unready '.status.phase == "Running"'
kubectl wait --for=jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}'=ProgressDeadlineExceeded \
  deployment/unready --timeout=30s > /dev/null || fail "Deployment unready did not exceed its progress deadline"
jq_true app=unready '.status.containerStatuses[0].ready == false and .status.containerStatuses[0].started == true
  and ([.status.conditions[] | select(.type == "Ready") | .status] == ["False"])' || fail "unready pod status"
[ "$(kubectl get deployment unready -o jsonpath='{.status.conditions[?(@.type=="Available")].status}')" = False ] \
  || fail "Deployment unready is Available"
pass "KWOK_NOT_READY=1 pod is Running but never Ready; its Deployment never Available"

# Deletion: scale down, then the namespace with everything in it.
kubectl scale deployment web --replicas=0 > /dev/null
eventually 30 "Deployment web scaled to 0 pods" test -z "$(kubectl get pods -l app=web -o name)"
pass "scaling a Deployment down removes its pods"
"$CLUSTER_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" delete namespace "$ns" --timeout=60s > /dev/null \
  || fail "namespace deletion"
trap - EXIT
pass "deleting the namespace removes every pod and Job in it"
