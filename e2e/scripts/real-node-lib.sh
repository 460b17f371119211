# shellcheck shell=bash
# The local cluster's one real node: containerd (runc, CRI), a kubelet and
# kube-proxy (iptables mode), beside kwok's fake Nodes. Sourced by
# cluster-up.sh, cluster-down.sh and cluster-ctl.sh after cluster-lib.sh.
# docs/local-cluster.md ("The real node") explains every setting.
#
# It is on unless CD4ML_REAL_NODE=0. It needs root, because containerd, the
# kubelet and kube-proxy change the machine (mounts, cgroups, iptables,
# network devices, sysctls); everything they change is recorded under
# $CLUSTER_DIR/node/ and put back by real_node_teardown. Only one real node
# can run on a machine (iptables chains, kubelet cgroups and host paths are
# machine-wide): /run/cd4ml-real-node names the cluster that has it.

REAL_NODE_NAME=cd4ml-real-node
# Pods on the real node get addresses from this range (the CNI bridge's): it
# avoids the Service range (10.0.0.0/16) and kwok's fake pod range (10.244.0.0/16).
REAL_NODE_POD_CIDR=10.250.0.0/24
REAL_NODE_POD_GATEWAY=10.250.0.1/24
REAL_NODE_BRIDGE=cd4ml0
REAL_NODE_BRIDGE_MAC=02:cd:41:00:00:01 # locally administered
# Addresses of this cluster that must never leave the machine: Service IPs
# (kube-proxy DNATs them; until it has a rule for a new Service, a packet to
# its IP would follow the default route out), and kwok's fake pod IPs.
SERVICE_CIDR=10.0.0.0/16
KWOK_POD_CIDR=10.244.0.0/16
# Only pods that tolerate this taint (and select the label) run there.
REAL_NODE_TAINT_KEY=cd4ml.io/real-node
REAL_NODE_LABEL=cd4ml.io/node=real
REAL_NODE_OWNER_FILE=/run/cd4ml-real-node
# A claim younger than this, with no node process running yet, is a cluster
# still starting (cluster-up claims the node a few seconds before containerd
# runs; a cold image build in between takes longer, and is done before).
REAL_NODE_STARTING_SECONDS=120
# What the kubelet and containerd use outside $CLUSTER_DIR whatever they are
# told; removed on teardown when cluster-up found them absent.
REAL_NODE_HOST_PATHS=(/var/lib/kubelet /var/log/containers /var/lib/cni /run/containerd)
# Sysctls the kubelet (kernel.panic*, vm.overcommit_memory) and we
# (forwarding, for pod traffic) change: saved on start, restored on teardown.
REAL_NODE_SYSCTLS=(kernel.panic kernel.panic_on_oops vm.overcommit_memory net.ipv4.ip_forward
  net.ipv4.conf.all.forwarding)
REAL_NODE_COMPONENTS=(containerd kubelet kube-proxy)

real_node_enabled() { [ "${CD4ML_REAL_NODE:-1}" != 0 ]; }

# The message every refusal ends with.
real_node_off_hint() {
  echo "set CD4ML_REAL_NODE=0 to run the cluster without its real node (kwok nodes only; the tests that need real pods then fail with this message)"
}

real_node_die() { die "real node: $*; $(real_node_off_hint)"; }

node_dir() { echo "$CLUSTER_DIR/node"; }

# The address the kubelet registers (it refuses loopback): the first global
# IPv4 address of the machine.
real_node_ip() {
  ip -4 -o addr show scope global 2> /dev/null | awk '{split($4, a, "/"); print a[1]; exit}'
}

# real_node_owner_alive <cluster dir>: whether a real-node component that
# cluster started still runs (by its recorded pid and program).
real_node_owner_alive() {
  local c
  for c in "${REAL_NODE_COMPONENTS[@]}"; do
    (CLUSTER_DIR=$1 component_pid "$c" > /dev/null) && return 0
  done
  return 1
}

# Checks what the real node needs from the machine, naming the first missing
# piece. Cheap (no containers are run: real_node_probe_runc does that once the
# pause binary exists).
real_node_preflight() {
  [ "$(id -u)" = 0 ] || real_node_die "containerd, the kubelet and kube-proxy need root"
  local b
  for b in containerd containerd-shim-runc-v2 runc iptables iptables-save ip nft mount umount \
    findmnt; do
    command -v "$b" > /dev/null 2>&1 || real_node_die "'$b' is not installed (make deps installs it)"
  done
  for b in bridge host-local loopback portmap; do
    [ -x "/usr/lib/cni/$b" ] ||
      real_node_die "CNI plugin /usr/lib/cni/$b is missing (package containernetworking-plugins)"
  done
  local ctrl probe
  for ctrl in memory cpu pids; do
    [ -d "/sys/fs/cgroup/$ctrl" ] || [ -f /sys/fs/cgroup/cgroup.controllers ] ||
      real_node_die "no $ctrl cgroup controller under /sys/fs/cgroup"
  done
  probe=/sys/fs/cgroup/memory/cd4ml-probe-$$
  [ -d /sys/fs/cgroup/memory ] || probe=/sys/fs/cgroup/cd4ml-probe-$$
  mkdir "$probe" 2> /dev/null && rmdir "$probe" ||
    real_node_die "cgroups are not writable ($probe could not be created)"
  [ -n "$(real_node_ip)" ] ||
    real_node_die "the machine has no non-loopback IPv4 address (the kubelet refuses a loopback node IP)"
  if [ -f "$REAL_NODE_OWNER_FILE" ]; then
    local owner
    owner=$(cat "$REAL_NODE_OWNER_FILE")
    # Only a live owner counts: a record left by a cluster whose processes
    # are gone (a machine snapshot, a killed shell) must not block this one.
    if [ "$owner" != "$CLUSTER_DIR" ] && real_node_owner_alive "$owner"; then
      real_node_die "another local cluster ($owner) runs the machine's real node; stop it first (make cluster-down there)"
    fi
    # Its cluster-up writes the record before any node process starts: a
    # recent one may be a cluster still starting, whose traces are not
    # leftovers.
    local age
    age=$(($(date +%s) - $(stat -c %Y "$REAL_NODE_OWNER_FILE" 2> /dev/null || echo 0)))
    if [ "$owner" != "$CLUSTER_DIR" ] && [ "$age" -lt "$REAL_NODE_STARTING_SECONDS" ]; then
      real_node_die "another local cluster ($owner) claimed the machine's real node ${age}s ago and may still be starting; if it is not, run make cluster-down there or wait ${REAL_NODE_STARTING_SECONDS}s"
    fi
  fi
  if ss -Hltn 'sport = :10250' 2> /dev/null | grep -q .; then
    real_node_die "TCP port 10250 (the kubelet's) is taken: is another kubelet running on this machine?"
  fi
}

# A record in the owner file whose cluster no longer runs (its processes were
# killed, or the machine is a copy of one where a cluster was up) leaves that
# cluster's traces behind: mounts under its directory, the bridge, KUBE-*
# chains, kubepods cgroups. They are removed before this cluster records the
# machine, so that its teardown (and e2e.machine-restored) compares against a
# machine without a dead node's leftovers, and so that they cannot clash
# with the new node. Host paths, nftables tables and sysctls are left as
# they are: the dead cluster's record of them may be old, and whatever is
# left is recorded as the machine's own and kept. Run after
# real_node_preflight, which refuses a live or starting owner.
real_node_reclaim_from_dead_owner() {
  local owner
  [ -f "$REAL_NODE_OWNER_FILE" ] || return 0
  owner=$(cat "$REAL_NODE_OWNER_FILE")
  if [[ $owner == /?* ]] && real_node_owner_alive "$owner"; then
    return 0
  fi
  log "real node: the machine's real node was left by a cluster that no longer runs (${owner:-unnamed}): removing its traces first"
  (
    local pid
    # Shims and their pods' processes outlive a killed containerd; the
    # pods' are found by their kubepods cgroups (only a kubelet makes
    # those, and real_node_preflight found none running). A pid outside
    # this pid namespace reads as 0: never signalled (kill 0 is our group).
    if [[ $owner == /?* ]]; then
      for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $owner/node/containerd/containerd.sock" || true); do
        kill -KILL "$pid" 2> /dev/null || true
      done
    fi
    pod_pids() {
      find /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods -name cgroup.procs -exec cat {} + 2> /dev/null |
        awk '$1 > 1' || true
    }
    for pid in $(pod_pids); do
      kill -KILL "$pid" 2> /dev/null || true
    done
    # Their cgroups can only be removed once they are gone.
    local deadline=$((SECONDS + 10))
    while [ -n "$(pod_pids)" ] && [ $SECONDS -lt $deadline ]; do
      sleep 0.1
    done
    # Only an absolute path names mounts to remove: an empty or relative
    # record would match every mount of the machine.
    if [[ $owner == /?* ]]; then
      real_node_unmount_under "$owner"
    fi
    real_node_remove_network
    real_node_remove_all_chains
    real_node_remove_pod_cgroups
  )
  rm -f "$REAL_NODE_OWNER_FILE"
}

# runc must be able to start a container here (cgroup v1 hybrid trees refuse
# crun, for instance): one tiny container from the pause binary, started and
# killed (~0.2 s).
real_node_probe_runc() {
  local pause_bin=$1 bundle
  bundle=$(node_dir)/runc-probe
  rm -rf "$bundle"
  mkdir -p "$bundle/rootfs"
  cp "$pause_bin" "$bundle/rootfs/pause"
  (cd "$bundle" && runc spec --rootless=false)
  jq '.process.args = ["/pause"] | .process.terminal = false | .root.readonly = true' \
    "$bundle/config.json" > "$bundle/config.tmp" && mv "$bundle/config.tmp" "$bundle/config.json"
  local id=cd4ml-probe-$$
  # Output to a file: the detached container inherits it, and would hold a
  # pipe open for as long as it runs.
  if ! runc --root "$bundle/state" run --detach --bundle "$bundle" "$id" > "$bundle.log" 2>&1; then
    runc --root "$bundle/state" delete --force "$id" > /dev/null 2>&1 || true
    local why
    why=$(tail -n1 "$bundle.log")
    rm -rf "$bundle" "$bundle.log"
    real_node_die "runc cannot start a container here: $why"
  fi
  rm -f "$bundle.log"
  runc --root "$bundle/state" delete --force "$id" > /dev/null 2>&1 || true
  rm -rf "$bundle"
}

# ------------------------------------------------------------ recorded state --

# Records, before anything starts, what teardown must put back: sysctl
# values, which host paths and nftables tables existed.
real_node_record_machine() {
  local dir s p
  dir=$(node_dir)
  mkdir -p "$dir"
  for s in "${REAL_NODE_SYSCTLS[@]}"; do
    echo "$s=$(sysctl -n "$s")"
  done > "$dir/sysctl.before"
  for p in "${REAL_NODE_HOST_PATHS[@]}"; do
    [ -e "$p" ] && echo "$p"
  done > "$dir/host-paths.before"
  nft list tables 2> /dev/null | sort > "$dir/nft-tables.before" || true
  echo "$CLUSTER_DIR" > "$REAL_NODE_OWNER_FILE"
}

# ------------------------------------------------------------------ network --

# The CNI bridge, made before the first pod (the bridge plugin takes it as it
# is), so the cluster's addresses can be routed onto it: a ClusterIP that
# kube-proxy has no rule for yet ends on the bridge (no such host), never on
# the machine's network; kwok's pod IPs are unreachable.
real_node_setup_network() {
  ip link add "$REAL_NODE_BRIDGE" type bridge 2> /dev/null || true
  # A MAC of its own: a bridge without one takes the lowest of its ports', so
  # it changes as pods come and go, and the pods' cached gateway address goes
  # stale (replies to the host are dropped until they ask again: seconds of
  # timeouts at every rollout).
  ip link set "$REAL_NODE_BRIDGE" address "$REAL_NODE_BRIDGE_MAC"
  ip addr replace "$REAL_NODE_POD_GATEWAY" dev "$REAL_NODE_BRIDGE"
  ip link set "$REAL_NODE_BRIDGE" up
  ip route replace "$SERVICE_CIDR" dev "$REAL_NODE_BRIDGE"
  ip route replace unreachable "$KWOK_POD_CIDR"
}

# ------------------------------------------------------------------- config --

real_node_write_config() {
  local dir pki=$CLUSTER_DIR/pki node_ip
  dir=$(node_dir)
  node_ip=$(real_node_ip)
  mkdir -p "$dir"/{containerd,cni/net.d,cni/data,kubelet,kube-proxy}

  # containerd: CRI on, runc without systemd cgroups; the sandbox's
  # oom_score_adj is left alone (the machine lacks CAP_SYS_RESOURCE, so
  # containerd's default -998 is refused and every sandbox fails).
  cat > "$dir/containerd/config.toml" << EOF
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
[grpc]
  address = "$dir/containerd/containerd.sock"
[ttrpc]
  address = "$dir/containerd/containerd.sock.ttrpc"
[debug]
  level = "warn"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "cd4ml.local/pause:1"
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
    max_conf_num = 1
EOF

  cat > "$dir/cni/net.d/10-cd4ml.conflist" << EOF
{
  "cniVersion": "1.0.0",
  "name": "cd4ml",
  "plugins": [
    {"type": "bridge", "bridge": "$REAL_NODE_BRIDGE", "isGateway": true, "ipMasq": true,
     "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$dir/cni/data",
              "ranges": [[{"subnet": "$REAL_NODE_POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

  cat > "$dir/kubelet/config.yaml" << EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization:
  mode: Webhook
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
# A hybrid cgroup v1 machine: the kubelet refuses v1 unless told, and the
# cgroupfs driver (no systemd here).
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: true
enforceNodeAllocatable: []
failSwapOn: false
clusterDNS: []
podLogsDir: $dir/kubelet/pod-logs
containerRuntimeEndpoint: unix://$dir/containerd/containerd.sock
registerWithTaints:
- {key: $REAL_NODE_TAINT_KEY, value: "true", effect: NoSchedule}
# The tests' images are imported, never pulled; keep them however full the disk.
imageGCHighThresholdPercent: 100
evictionHard: {}
serializeImagePulls: false
maxPods: 60
nodeStatusReportFrequency: 10s
EOF

  cat > "$dir/kube-proxy/config.yaml" << EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: $CLUSTER_DIR/kubeconfigs/kube-proxy.kubeconfig
hostnameOverride: $REAL_NODE_NAME
clusterCIDR: $REAL_NODE_POD_CIDR
# NodePorts on the node's own address only (not on every local address).
nodePortAddresses: [primary]
healthzBindAddress: 127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$KUBE_PROXY_METRICS_PORT
iptables:
  # Would need net.ipv4.conf.all.route_localnet=1; NodePorts on 127.0.0.1 are not used.
  localhostNodePorts: false
# 0: leave the machine's conntrack sysctls as they are.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
}

# Certificates of the node's identities, issued by the cluster CA (issue()
# from cluster-up.sh).
real_node_write_pki() {
  local node_ip
  node_ip=$(real_node_ip)
  issue kubelet "/O=system:nodes/CN=system:node:$REAL_NODE_NAME" clientAuth
  issue kubelet-serving "/CN=$REAL_NODE_NAME" serverAuth "DNS:$REAL_NODE_NAME,IP:$node_ip"
  issue kube-proxy "/CN=system:kube-proxy" clientAuth
  # kube-apiserver -> kubelet (logs, exec, port-forward), authorized by the
  # kubelet's webhook like any other user.
  issue apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  write_kubeconfig "$CLUSTER_DIR/kubeconfigs/kubelet.kubeconfig" "system:node:$REAL_NODE_NAME" kubelet
  write_kubeconfig "$CLUSTER_DIR/kubeconfigs/kube-proxy.kubeconfig" system:kube-proxy kube-proxy
}

real_node_write_cmds() {
  local dir
  dir=$(node_dir)
  write_cmd containerd -- "$(command -v containerd)" --config "$dir/containerd/config.toml"
  write_cmd kubelet -- "$CLUSTER_BIN_DIR/kubelet" \
    --config="$dir/kubelet/config.yaml" \
    --kubeconfig="$CLUSTER_DIR/kubeconfigs/kubelet.kubeconfig" \
    --root-dir="$dir/kubelet/root" \
    --cert-dir="$dir/kubelet/pki" \
    --hostname-override="$REAL_NODE_NAME" \
    --node-ip="$(real_node_ip)" \
    --node-labels="$REAL_NODE_LABEL,type=real" \
    --v=1
  write_cmd kube-proxy -- "$CLUSTER_BIN_DIR/kube-proxy" --config="$dir/kube-proxy/config.yaml" --v=1
}

# The extra kube-apiserver flags a real node needs: reach kubelets by their
# InternalIP with a client certificate, and serve pods on the node's address
# (the `kubernetes` Service's endpoint, kept by the apiserver's lease
# reconciler; it cannot be loopback).
real_node_apiserver_flags() {
  local pki=$CLUSTER_DIR/pki
  echo "--kubelet-client-certificate=$pki/apiserver-kubelet-client.crt"
  echo "--kubelet-client-key=$pki/apiserver-kubelet-client.key"
  echo "--kubelet-certificate-authority=$pki/ca.crt"
  echo "--kubelet-preferred-address-types=InternalIP"
  echo "--advertise-address=$(real_node_ip)"
  echo "--bind-address=0.0.0.0"
  echo "--endpoint-reconciler-type=lease"
}

# ------------------------------------------------------------------- health --

real_node_component_healthy() {
  case $1 in
    containerd)
      ctr --address "$(node_dir)/containerd/containerd.sock" version > /dev/null 2>&1 ;;
    kubelet)
      [ "$(curl -sf --max-time 2 "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz" 2> /dev/null)" = ok ] ;;
    kube-proxy)
      curl -sf --max-time 2 "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz" > /dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

node_ctr() { ctr --address "$(node_dir)/containerd/containerd.sock" --namespace k8s.io "$@"; }

# --------------------------------------------------------------- teardown --

# Puts the machine back as real_node_record_machine found it. Works on a
# half-started or half-stopped node, and with the API server already gone.
real_node_teardown() {
  local dir
  dir=$(node_dir)
  [ -d "$dir" ] || return 0
  # 1. No new pods; the running ones stopped through the kubelet, so the CRI
  #    tears their sandboxes down (CNI DEL: veths, IPs, netns mounts).
  if component_pid kubelet > /dev/null && component_healthy kube-apiserver 2> /dev/null; then
    local k=("$CLUSTER_BIN_DIR/kubectl" --kubeconfig "$CLUSTER_DIR/kubeconfig" --request-timeout=5s)
    "${k[@]}" cordon "$REAL_NODE_NAME" > /dev/null 2>&1 || true
    "${k[@]}" delete pods --all-namespaces --field-selector "spec.nodeName=$REAL_NODE_NAME" \
      --force --grace-period=0 --wait=false > /dev/null 2>&1 || true
    local deadline=$((SECONDS + 30))
    while [ -n "$(node_ctr tasks ls -q 2> /dev/null)" ] && [ $SECONDS -lt $deadline ]; do
      sleep 0.2
    done
  fi
  stop_component kube-proxy
  stop_component kubelet
  # 2. Whatever still runs (kubelet already gone, or pods that would not
  #    stop): killed and removed through containerd itself.
  if component_pid containerd > /dev/null; then
    local t c
    for t in $(node_ctr tasks ls -q 2> /dev/null); do
      node_ctr tasks kill --signal SIGKILL "$t" > /dev/null 2>&1 || true
    done
    for t in $(node_ctr tasks ls -q 2> /dev/null); do
      node_ctr tasks delete --force "$t" > /dev/null 2>&1 || true
    done
    for c in $(node_ctr containers ls -q 2> /dev/null); do
      node_ctr containers delete "$c" > /dev/null 2>&1 || true
    done
  fi
  stop_component containerd
  # Shims outlive containerd; theirs are found by the socket they serve.
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $dir/containerd/containerd.sock" || true); do
    kill -KILL "$pid" 2> /dev/null || true
  done
  real_node_cleanup_machine
}

# Mounts, network, iptables, cgroups, host paths, sysctls.
real_node_cleanup_machine() {
  local dir
  dir=$(node_dir)
  real_node_unmount_under "$CLUSTER_DIR"
  real_node_remove_network
  real_node_remove_all_chains
  real_node_remove_new_nft_tables
  real_node_remove_pod_cgroups
  # Host paths the kubelet and containerd create whatever they are told.
  local p
  for p in "${REAL_NODE_HOST_PATHS[@]}"; do
    grep -qxF "$p" "$dir/host-paths.before" 2> /dev/null && continue
    [ -e "$p" ] && rm -rf "$p"
  done
  if [ -f "$dir/sysctl.before" ]; then
    local line
    while read -r line; do
      sysctl -q -w "$line" > /dev/null 2>&1 || true
    done < "$dir/sysctl.before"
  fi
  if [ "$(cat "$REAL_NODE_OWNER_FILE" 2> /dev/null)" = "$CLUSTER_DIR" ]; then
    rm -f "$REAL_NODE_OWNER_FILE"
  fi
}

# real_node_unmount_under <absolute dir>: mounts under a cluster's state
# directory, deepest first (overlay rootfs, shm, netns, the kubelet's bind
# mount of its root dir and pod volumes).
real_node_unmount_under() {
  local under=$1 m
  [[ $under == /?* ]] || die "real node: refusing to unmount under '$under' (not an absolute directory)"
  while read -r m; do
    umount "$m" 2> /dev/null || umount -l "$m" 2> /dev/null || true
  done < <(findmnt -rn -o TARGET | grep -F "${under%/}/" | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-)
}

# Veths of pods whose sandboxes were not torn down, the bridge, the route
# that keeps kwok's pod IPs on the machine.
real_node_remove_network() {
  local link
  for link in $(ip -o link show master "$REAL_NODE_BRIDGE" 2> /dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link delete "$link" 2> /dev/null || true
  done
  ip link delete "$REAL_NODE_BRIDGE" 2> /dev/null || true
  ip route delete unreachable "$KWOK_POD_CIDR" 2> /dev/null || true
}

# kube-proxy removes its own chains; then every KUBE-*/CNI-* chain left (the
# kubelet's, CNI's portmap and masquerade chains).
real_node_remove_all_chains() {
  if [ -x "${CLUSTER_BIN_DIR:-}/kube-proxy" ]; then
    "$CLUSTER_BIN_DIR/kube-proxy" --cleanup --v=0 > /dev/null 2>&1 || true
  fi
  real_node_remove_chains iptables
  real_node_remove_chains ip6tables
}

# cgroups of the pods (kubepods) under every hierarchy, leaves first.
real_node_remove_pod_cgroups() {
  local root
  for root in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$root" ] || continue
    find "$root" -depth -type d -exec rmdir {} + 2> /dev/null || true
  done
}

# real_node_remove_chains <iptables|ip6tables>: in every table, deletes the
# rules of other chains that jump to a KUBE-* or CNI-* chain, then flushes
# and deletes those chains (flushed all first: they jump to each other).
real_node_remove_chains() {
  local cmd=$1 save table line chain ours=()
  command -v "$cmd-save" > /dev/null 2>&1 || return 0
  save=$("$cmd-save" 2> /dev/null) || return 0
  table=
  while read -r line; do
    case $line in
      \**) table=${line#\*} ;;
      :KUBE-* | :CNI-*)
        chain=${line%% *}
        ours+=("$table ${chain#:}") ;;
      -A\ KUBE-* | -A\ CNI-*) ;;
      -A\ *)
        if [[ $line =~ -j\ (KUBE-|CNI-) ]]; then
          # shellcheck disable=SC2086  # the rule's own words, quoted comments included
          eval "$cmd -w -t $table ${line/-A /-D }" 2> /dev/null || true
        fi ;;
    esac
  done <<< "$save"
  local entry
  for entry in "${ours[@]}"; do
    "$cmd" -w -t "${entry% *}" -F "${entry#* }" 2> /dev/null || true
  done
  for entry in "${ours[@]}"; do
    "$cmd" -w -t "${entry% *}" -X "${entry#* }" 2> /dev/null || true
  done
}

# Tables that iptables-nft created for the node (empty now) and that did not
# exist before it started.
real_node_remove_new_nft_tables() {
  command -v nft > /dev/null 2>&1 || return 0
  local before
  before=$(node_dir)/nft-tables.before
  [ -f "$before" ] || return 0
  local t
  while read -r t; do
    [ -n "$t" ] || continue
    grep -qxF "$t" "$before" && continue
    # shellcheck disable=SC2086  # "table <family> <name>"
    nft delete ${t} 2> /dev/null || true
  done < <(nft list tables 2> /dev/null | sort)
}
