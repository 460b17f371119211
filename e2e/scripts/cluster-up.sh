#!/usr/bin/env bash
# Starts the local Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok faking Nodes) and a
# Prometheus that scrapes its pods (prometheus-lib.sh) on 127.0.0.1, and one
# real node (containerd, kubelet, kube-proxy: real-node-lib.sh) beside
# the fake ones, and writes an admin kubeconfig to .cluster/kubeconfig.
#
# Idempotent: if the cluster recorded in .cluster/ is running and healthy it
# says so and returns. A partly running or stale one is torn down first.
#
# Environment:
#   CD4ML_KWOK_NODES              number of fake Nodes (default 1)
#   CD4ML_REAL_NODE               0: no real node (kwok nodes only); default 1
#   CD4ML_CLUSTER_START_TIMEOUT   seconds each wait may take (default 90)
#   CD4ML_CLUSTER_STOP_TIMEOUT    seconds before SIGKILL when stopping (default 15)
#   CD4ML_CLUSTER_DIR             state directory (default <repo>/.cluster)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"
LOG_PREFIX=cluster-up # read by log() in cluster-lib.sh
t_start=$(now_ms)
lock_cluster

cluster_healthy() {
  load_env || return 1
  local c
  for c in $(cluster_components); do
    component_pid "$c" > /dev/null || return 1
    component_healthy "$c" || return 1
  done
  # Asked for a real node (or not) as the running one was started.
  [ "${REAL_NODE:-0}" = "$(real_node_enabled && echo 1 || echo 0)" ]
}

if [ -d "$CLUSTER_DIR" ]; then
  if cluster_healthy; then
    log "cluster already running and healthy (kubeconfig: $CLUSTER_DIR/kubeconfig, apiserver https://127.0.0.1:$APISERVER_PORT)"
    exit 0
  fi
  log "found a stale or partly running cluster in $CLUSTER_DIR: tearing it down first"
  "$SCRIPTS_DIR/cluster-down.sh"
fi

# ----------------------------------------------------------------- binaries --
t_bin=$(now_ms)
real_node=0
toolchain=(etcd kwok kubernetes prometheus)
needed=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok prometheus)
if real_node_enabled; then
  real_node=1
  real_node_preflight
  toolchain+=(kubernetes-node)
  needed+=(kubelet kube-proxy)
fi
bin=$("$SCRIPTS_DIR/build-toolchain.sh" "${toolchain[@]}") || die "building the toolchain failed"
for b in "${needed[@]}"; do
  [ -x "$bin/$b" ] || die "missing binary $bin/$b"
done
if [ "$real_node" = 1 ]; then
  # With the binaries known: its teardown runs kube-proxy --cleanup.
  CLUSTER_BIN_DIR=$bin real_node_reclaim_from_dead_owner
  "$REPO_ROOT/e2e/images/build-image.sh" pause > /dev/null || die "building the pause image failed"
fi
t_bin=$(( $(now_ms) - t_bin ))

mkdir -p "$CLUSTER_DIR"/{pki,kubeconfigs,cmd,pids,logs,etcd,kwok}
chmod 700 "$CLUSTER_DIR/etcd"
ln -sfn "$bin" "$CLUSTER_DIR/bin"
kubectl() { "$bin/kubectl" --kubeconfig "$CLUSTER_DIR/kubeconfig" "$@"; }

# -------------------------------------------------------------------- ports --
nports=$((7 + 4 * real_node))
mapfile -t ports < <(pick_ports "$nports")
[ ${#ports[@]} -eq "$nports" ] || die "could not pick free TCP ports on 127.0.0.1"
cat > "$CLUSTER_DIR/env" <<EOF
# Local control plane of $REPO_ROOT, written by cluster-up.sh
CLUSTER_DIR=$CLUSTER_DIR
CLUSTER_BIN_DIR=$bin
KUBECONFIG_FILE=$CLUSTER_DIR/kubeconfig
ETCD_CLIENT_PORT=${ports[0]}
ETCD_PEER_PORT=${ports[1]}
APISERVER_PORT=${ports[2]}
CONTROLLER_MANAGER_PORT=${ports[3]}
SCHEDULER_PORT=${ports[4]}
KWOK_PORT=${ports[5]}
PROMETHEUS_PORT=${ports[6]}
REAL_NODE=$real_node
EOF
if [ "$real_node" = 1 ]; then
  cat >> "$CLUSTER_DIR/env" << EOF
REAL_NODE_NAME=$REAL_NODE_NAME
NODE_IP=$(real_node_ip)
KUBELET_PORT=${ports[7]}
KUBELET_HEALTHZ_PORT=${ports[8]}
KUBE_PROXY_HEALTHZ_PORT=${ports[9]}
KUBE_PROXY_METRICS_PORT=${ports[10]}
EOF
fi
load_env
log "ports: etcd $ETCD_CLIENT_PORT/$ETCD_PEER_PORT, apiserver $APISERVER_PORT, controller-manager $CONTROLLER_MANAGER_PORT, scheduler $SCHEDULER_PORT, kwok $KWOK_PORT, prometheus $PROMETHEUS_PORT"

# ---------------------------------------------------------------------- PKI --
t_pki=$(now_ms)
pki=$CLUSTER_DIR/pki
openssl_q() { openssl "$@" 2>/dev/null || { openssl "$@"; die "openssl $1 failed"; }; }

# Certificates use ECDSA P-256 keys (RSA 2048 made PKI generation take ~2.5 s
# of a warm start); the service-account signing key is RSA (RS256 tokens).
ec_key() { openssl_q genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# new_ca <name> <common name>
new_ca() {
  ec_key "$pki/$1.key"
  openssl_q req -x509 -new -key "$pki/$1.key" -sha256 -days 3650 -out "$pki/$1.crt" \
    -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
}
new_ca ca cd4ml-local-ca
# Separate CA for the apiserver's front proxy (aggregation layer / request
# header authentication), as kubeadm does.
new_ca front-proxy-ca cd4ml-local-front-proxy-ca

# issue <name> <subject> <serverAuth|clientAuth> [subjectAltName] [ca name]
issue() {
  local name=$1 subject=$2 usage=$3 san=${4:-} ca=${5:-ca}
  ec_key "$pki/$name.key"
  openssl_q req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$usage"
    [ -z "$san" ] || echo "subjectAltName=$san"
  } > "$pki/$name.ext"
  openssl_q x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" \
    -CAcreateserial -CAserial "$pki/$ca.srl" -sha256 -days 365 \
    -extfile "$pki/$name.ext" -out "$pki/$name.crt"
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}

local_sans="DNS:localhost,IP:127.0.0.1"
issue apiserver "/CN=kube-apiserver" serverAuth \
  "$local_sans,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.0.0.1"
issue controller-manager-serving "/CN=kube-controller-manager" serverAuth "$local_sans"
issue scheduler-serving "/CN=kube-scheduler" serverAuth "$local_sans"
issue admin "/O=system:masters/CN=cd4ml-admin" clientAuth
issue controller-manager "/CN=system:kube-controller-manager" clientAuth
issue scheduler "/CN=system:kube-scheduler" clientAuth
# kwok gets its own identity, bound by e2e/kwok/rbac.yaml to just what a fleet
# of kubelets needs (Node/Pod status, pod deletion, Leases, Events).
issue kwok "/CN=kwok-controller" clientAuth
# Prometheus's service discovery: list and watch pods (e2e/prometheus/rbac.yaml).
issue prometheus "/CN=prometheus" clientAuth
issue front-proxy-client "/CN=front-proxy-client" clientAuth "" front-proxy-ca
openssl_q genrsa -out "$pki/sa.key" 2048
openssl_q rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub"
chmod 600 "$pki"/*.key

# write_kubeconfig <file> <user> <cert name>
write_kubeconfig() {
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: cd4ml-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 < "$pki/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 < "$pki/$3.crt")
    client-key-data: $(base64 -w0 < "$pki/$3.key")
contexts:
- name: cd4ml-local
  context:
    cluster: cd4ml-local
    user: $2
    namespace: default
current-context: cd4ml-local
EOF
  chmod 600 "$1"
}
write_kubeconfig "$CLUSTER_DIR/kubeconfig" cd4ml-admin admin
write_kubeconfig "$CLUSTER_DIR/kubeconfigs/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
write_kubeconfig "$CLUSTER_DIR/kubeconfigs/scheduler.kubeconfig" system:kube-scheduler scheduler
write_kubeconfig "$CLUSTER_DIR/kubeconfigs/kwok.kubeconfig" kwok-controller kwok
[ "$real_node" = 0 ] || real_node_write_pki
t_pki=$(( $(now_ms) - t_pki ))

# ------------------------------------------------------------ command lines --
write_cmd etcd -- "$bin/etcd" \
  --name=cd4ml \
  --data-dir="$CLUSTER_DIR/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="cd4ml=http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster-state=new \
  --unsafe-no-fsync \
  --log-level=warn

# Without a real node the API server is reachable on loopback only; with one,
# pods reach it through the `kubernetes` Service (real_node_apiserver_flags).
apiserver_node_flags=(--advertise-address=127.0.0.1 --bind-address=127.0.0.1
  --endpoint-reconciler-type=none)
[ "$real_node" = 0 ] || mapfile -t apiserver_node_flags < <(real_node_apiserver_flags)
write_cmd kube-apiserver -- "$bin/kube-apiserver" \
  "${apiserver_node_flags[@]}" \
  --secure-port="$APISERVER_PORT" \
  --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --authorization-mode=Node,RBAC \
  --client-ca-file="$pki/ca.crt" \
  --tls-cert-file="$pki/apiserver.crt" \
  --tls-private-key-file="$pki/apiserver.key" \
  --cert-dir="$pki" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$pki/sa.pub" \
  --service-account-signing-key-file="$pki/sa.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --allow-privileged=true \
  --enable-admission-plugins=NodeRestriction \
  --requestheader-client-ca-file="$pki/front-proxy-ca.crt" \
  --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User \
  --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$pki/front-proxy-client.crt" \
  --proxy-client-key-file="$pki/front-proxy-client.key" \
  --shutdown-send-retry-after=true \
  --profiling=false

kcm_kubeconfig=$CLUSTER_DIR/kubeconfigs/controller-manager.kubeconfig
write_cmd kube-controller-manager -- "$bin/kube-controller-manager" \
  --kubeconfig="$kcm_kubeconfig" \
  --authentication-kubeconfig="$kcm_kubeconfig" \
  --authorization-kubeconfig="$kcm_kubeconfig" \
  --bind-address=127.0.0.1 \
  --secure-port="$CONTROLLER_MANAGER_PORT" \
  --tls-cert-file="$pki/controller-manager-serving.crt" \
  --tls-private-key-file="$pki/controller-manager-serving.key" \
  --cert-dir="$pki" \
  --leader-elect=false \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$pki/sa.key" \
  --root-ca-file="$pki/ca.crt" \
  --cluster-signing-cert-file="$pki/ca.crt" \
  --cluster-signing-key-file="$pki/ca.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --kube-api-qps=500 \
  --kube-api-burst=1000 \
  --profiling=false

cat > "$CLUSTER_DIR/kubeconfigs/scheduler-config.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: $CLUSTER_DIR/kubeconfigs/scheduler.kubeconfig
  qps: 500
  burst: 1000
leaderElection:
  leaderElect: false
enableProfiling: false
EOF
sched_kubeconfig=$CLUSTER_DIR/kubeconfigs/scheduler.kubeconfig
write_cmd kube-scheduler -- "$bin/kube-scheduler" \
  --config="$CLUSTER_DIR/kubeconfigs/scheduler-config.yaml" \
  --authentication-kubeconfig="$sched_kubeconfig" \
  --authorization-kubeconfig="$sched_kubeconfig" \
  --bind-address=127.0.0.1 \
  --secure-port="$SCHEDULER_PORT" \
  --tls-cert-file="$pki/scheduler-serving.crt" \
  --tls-private-key-file="$pki/scheduler-serving.key" \
  --cert-dir="$pki"

stages=("$KWOK_DIR"/stages/*.yaml)
[ -e "${stages[0]}" ] || die "no kwok stages in $KWOK_DIR/stages"
stage_args=()
for s in "${stages[@]}"; do stage_args+=("--config=$s"); done
write_cmd kwok "KWOK_WORKDIR=$CLUSTER_DIR/kwok" -- "$bin/kwok" \
  --kubeconfig="$CLUSTER_DIR/kubeconfigs/kwok.kubeconfig" \
  --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --server-address="127.0.0.1:$KWOK_PORT" \
  --cidr="$KWOK_POD_CIDR" \
  --node-ip=10.240.0.1 \
  --node-lease-duration-seconds=0 \
  "${stage_args[@]}"

prometheus_write_config
prometheus_write_cmd

if [ "$real_node" = 1 ]; then
  # The machine as this cluster found it, for e2e.machine-restored; kept
  # beside the state directory, which cluster-down removes.
  "$SCRIPTS_DIR/machine-state.sh" > "$CLUSTER_DIR.machine-before"
  real_node_record_machine
  real_node_setup_network
  real_node_write_config
  real_node_write_cmds
  gcc -static -O2 -s -o "$(node_dir)/pause" "$REPO_ROOT/e2e/images/pause/pause.c" ||
    real_node_die "could not compile the pause program (gcc, static libc)"
  real_node_probe_runc "$(node_dir)/pause"
fi

# ------------------------------------------------------------------- start --
fail_cleanup() {
  local rc=$?
  [ $rc -eq 0 ] && return 0
  log "start-up failed: stopping what was started; logs stay in $CLUSTER_DIR/logs (make cluster-down removes them)"
  [ "$real_node" = 0 ] || real_node_teardown || true
  local i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    stop_component "${COMPONENTS[i]}" || true
  done
  exit $rc
}
trap fail_cleanup EXIT

t_run=$(now_ms)
launch_component etcd
wait_healthy etcd
[ "$real_node" = 0 ] || launch_component containerd
launch_component kube-apiserver
wait_healthy kube-apiserver
# kwok's and Prometheus's permissions, then everything that talks to the
# apiserver, in parallel.
kubectl apply -f "$KWOK_DIR/rbac.yaml" -f "$REPO_ROOT/e2e/prometheus/rbac.yaml" > /dev/null
launch_component kube-controller-manager
launch_component kube-scheduler
launch_component kwok
launch_component prometheus
if [ "$real_node" = 1 ]; then
  wait_healthy containerd
  # The sandbox image must be there before the kubelet starts its first pod.
  "$REPO_ROOT/e2e/images/build-image.sh" --import pause > /dev/null ||
    die "importing the pause image into containerd failed"
  launch_component kubelet
  launch_component kube-proxy
fi
wait_healthy kube-controller-manager
wait_healthy kube-scheduler
wait_healthy kwok
if [ "$real_node" = 1 ]; then
  wait_healthy kubelet
  wait_healthy kube-proxy
fi

nodes=${CD4ML_KWOK_NODES:-1}
[[ $nodes =~ ^[1-9][0-9]*$ ]] || die "CD4ML_KWOK_NODES must be a positive number, not '$nodes'"
for ((i = 0; i < nodes; i++)); do
  sed "s/kwok-node-0/kwok-node-$i/g" "$KWOK_DIR/node.yaml"
  echo "---"
done | kubectl apply -f - > /dev/null

# poll <what> <command...>: until the command succeeds, within START_TIMEOUT.
poll() {
  local what=$1 deadline=$((SECONDS + START_TIMEOUT))
  shift
  until "$@" > /dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log_tail kwok
      log_tail kube-controller-manager
      die "timed out after ${START_TIMEOUT}s waiting for $what"
    fi
    sleep 0.2
  done
}
nodes_ready() {
  local ready
  ready=$(kubectl get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
    | grep -c '^True$')
  [ "$ready" -ge "$nodes" ]
}
poll "$nodes fake Node(s) to be Ready" nodes_ready
real_node_ready() {
  [ "$(kubectl get node "$REAL_NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
[ "$real_node" = 0 ] || poll "the real node $REAL_NODE_NAME to be Ready" real_node_ready
poll "ServiceAccount default/default" kubectl get serviceaccount default -n default
# Last: it was ready long before (0.4 s), but on 2 cores waiting for it
# earlier only delays the checks above.
wait_healthy prometheus
t_run=$(( $(now_ms) - t_run ))
trap - EXIT

secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
server_version=$(kubectl version -o json | jq -r .serverVersion.gitVersion)
real_note=", no real node (CD4ML_REAL_NODE=0)"
[ "$real_node" = 0 ] || real_note=", real node $REAL_NODE_NAME ($NODE_IP) Ready"
log "cluster up: Kubernetes $server_version at https://127.0.0.1:$APISERVER_PORT, $nodes fake Node(s)$real_note"
log "kubeconfig: $CLUSTER_DIR/kubeconfig   logs: $CLUSTER_DIR/logs/   prometheus: http://127.0.0.1:$PROMETHEUS_PORT"
log "took $(secs $(( $(now_ms) - t_start )))s (toolchain check $(secs "$t_bin")s, PKI $(secs "$t_pki")s, start and wait $(secs "$t_run")s)"
