#!/usr/bin/env bash
# Test: cluster-down leaves nothing of the real node behind. Run by ctest as
# the e2e suite's last test (FIXTURES_CLEANUP), it
#   1. stops the cluster the tests used and checks that no trace of a real
#      node is left (mounts under the state directory, the CNI bridge, KUBE-*
#      and CNI-* iptables chains, kubepods cgroups, network namespaces, cluster
#      processes, the owner file), and that the machine is as the first
#      cluster-up found it (its snapshot, when that cluster-up recorded one);
#   2. snapshots the machine, starts a fresh cluster, serves real requests
#      from real pods through a ClusterIP, stops it, and compares the machine
#      with the snapshot: any difference fails, and is printed.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"
LOG_PREFIX=machine-restored
real_node_enabled || die "$(real_node_off_hint | sed 's/^set/this test needs the real node; unset CD4ML_REAL_NODE or/')"

snapshot() { "$SCRIPTS_DIR/machine-state.sh"; }
failed=0

# Traces of a real node, whatever the machine looked like before.
leftovers() {
  local state=$1
  awk -v dir="$CLUSTER_DIR" -v bridge="$REAL_NODE_BRIDGE" -v owner="$REAL_NODE_OWNER_FILE" '
    /^## / { section = $2; next }
    section == "mounts" && index($0, dir "/") { print "mount: " $0 }
    section == "links" && ($0 == bridge || $0 ~ /^veth/) { print "network device: " $0 }
    section == "netns" && NF { print "network namespace: " $0 }
    (section == "iptables" || section == "ip6tables") && /(KUBE-|CNI-)/ { print section ": " $0 }
    section == "cgroups" && NF { print "cgroup: " $0 }
    section == "host-paths" && $0 == owner { print "owner file: " $0 }
    section == "processes" && NF { print "process: " $0 }' <<< "$state"
}

"$SCRIPTS_DIR/cluster-down.sh"
after_suite=$(snapshot)
traces=$(leftovers "$after_suite")
if [ -n "$traces" ]; then
  log "FAIL: after the suite's cluster-down, the real node left:"
  echo "$traces" >&2
  failed=1
fi
if [ -f "$CLUSTER_DIR.machine-before" ]; then
  if ! diff -u --label "before the suite's cluster-up" --label "after its cluster-down" \
    "$CLUSTER_DIR.machine-before" <(echo "$after_suite") >&2; then
    log "FAIL: the machine differs from before the suite's cluster-up (diff above)"
    failed=1
  fi
else
  log "no snapshot from before the suite's cluster-up (the cluster was already running): step 1 checked traces only"
fi

# 2. A fresh cycle with real traffic.
before=$(snapshot)
"$SCRIPTS_DIR/cluster-up.sh"
load_env
kubectl() { "$CLUSTER_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
"$REPO_ROOT/e2e/images/build-image.sh" --import echo-server
ns=machine-restored
kubectl create namespace "$ns" > /dev/null
kubectl -n "$ns" apply -f - > /dev/null << EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      nodeSelector: {${REAL_NODE_LABEL%=*}: ${REAL_NODE_LABEL#*=}}
      tolerations: [{key: $REAL_NODE_TAINT_KEY, operator: Exists, effect: NoSchedule}]
      containers:
      - name: echo
        image: $("$REPO_ROOT/e2e/images/build-image.sh" --ref echo-server)
        imagePullPolicy: IfNotPresent
        env: [{name: CD4ML_REVISION, value: restored}]
        readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
EOF
kubectl -n "$ns" rollout status deployment/echo --timeout=120s > /dev/null
ip=$(kubectl -n "$ns" get service echo -o jsonpath='{.spec.clusterIP}')
deadline=$((SECONDS + 30))
until curl -sf --max-time 2 "http://$ip/" | grep -q '"revision": "restored"'; do
  [ $SECONDS -lt $deadline ] || die "no answer from the real pods through ClusterIP $ip within 30s"
  sleep 0.2
done
log "real pods answered through ClusterIP $ip"
during=$(snapshot)
[ -n "$(leftovers "$during")" ] ||
  die "the running node shows none of the traces this test looks for: the check itself is broken"
"$SCRIPTS_DIR/cluster-down.sh"
after=$(snapshot)
if ! diff -u --label "before cluster-up" --label "after cluster-down" <(echo "$before") <(echo "$after") >&2; then
  log "FAIL: cluster-down left the machine different (diff above)"
  failed=1
fi
[ "$failed" = 0 ] || exit 1
log "PASS: cluster-down put the machine back as it was"
