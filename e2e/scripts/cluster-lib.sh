# shellcheck shell=bash
# Shared helpers of cluster-up.sh, cluster-down.sh and cluster-ctl.sh (sourced,
# not run). Everything the local control plane writes lives in $CLUSTER_DIR
# (.cluster/ at the repository root, git-ignored):
#
#   env                  ports and paths (sourceable KEY=VALUE lines)
#   kubeconfig           admin kubeconfig (certificates embedded, TLS verified)
#   kubeconfigs/*.kubeconfig  one per component identity
#   pki/                 CA, serving and client certificates, service-account keys
#   cmd/<component>      the component's exact command line (sourceable)
#   pids/<component>.pid, logs/<component>.log
#   etcd/                etcd's data;  kwok/  kwok's work dir
#   prometheus/          Prometheus's configuration, TSDB and file_sd targets
#   bin -> the toolchain cache's bin dir (kubectl, ...)

# shellcheck disable=SC2034  # variables used by the sourcing scripts
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER_DIR=${CD4ML_CLUSTER_DIR:-$REPO_ROOT/.cluster}
SCRIPTS_DIR=$REPO_ROOT/e2e/scripts
KWOK_DIR=$REPO_ROOT/e2e/kwok

# Start order of the control plane (and Prometheus, which watches its pods:
# prometheus-lib.sh); cluster-down stops in reverse. The real node's
# components (real-node-lib.sh) come and go with it.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok prometheus)

# Deadlines (seconds), overridable for slow machines.
START_TIMEOUT=${CD4ML_CLUSTER_START_TIMEOUT:-90}
STOP_TIMEOUT=${CD4ML_CLUSTER_STOP_TIMEOUT:-15}

log() { echo "${LOG_PREFIX:-cluster}: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Milliseconds since the epoch, for timings.
now_ms() { date +%s%3N; }

is_component() {
  local c
  for c in "${COMPONENTS[@]}" "${REAL_NODE_COMPONENTS[@]}"; do [ "$c" = "$1" ] && return 0; done
  return 1
}

# The components of the recorded cluster (load_env first): the control
# plane, and the real node's when it has one.
cluster_components() {
  echo "${COMPONENTS[@]}"
  [ "${REAL_NODE:-0}" = 0 ] || echo "${REAL_NODE_COMPONENTS[@]}"
}

load_env() {
  [ -f "$CLUSTER_DIR/env" ] || return 1
  # shellcheck source=/dev/null
  source "$CLUSTER_DIR/env"
}

# Serialises cluster-up and cluster-down of one state directory (fd 9 on
# <state dir>.lock, beside it so cluster-down can remove the directory). A
# script started by one that holds the lock (CD4ML_CLUSTER_LOCKED=1) skips it.
lock_cluster() {
  [ "${CD4ML_CLUSTER_LOCKED:-}" = 1 ] && return 0
  exec 9> "$CLUSTER_DIR.lock"
  if ! flock -n 9; then
    log "waiting for another cluster-up/cluster-down on $CLUSTER_DIR"
    # generous: the holder may be doing a cold toolchain build
    flock -w 3600 9 || die "could not lock $CLUSTER_DIR.lock within an hour"
  fi
  export CD4ML_CLUSTER_LOCKED=1
}

# ---------------------------------------------------------------- processes --

pid_file() { echo "$CLUSTER_DIR/pids/$1.pid"; }
log_file() { echo "$CLUSTER_DIR/logs/$1.log"; }
cmd_file() { echo "$CLUSTER_DIR/cmd/$1"; }

# The program (argv[0]) recorded in a component's cmd file.
component_program() {
  local CMD=() CMD_ENV=()
  # shellcheck source=/dev/null
  source "$(cmd_file "$1")"
  echo "${CMD[0]}"
}

# The recorded pid of a component if that process is alive (not a zombie) and
# still runs the recorded program, so a recycled pid is never signalled.
component_pid() {
  local name=$1 pid state argv0 file
  file=$(pid_file "$name")
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ "$state" != Z ] || return 1
  argv0=$(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | head -n1) || return 1
  [ "$argv0" = "$(component_program "$name")" ] || return 1
  echo "$pid"
}

# write_cmd <component> <env assignments...> -- <program> <args...>
write_cmd() {
  local name=$1
  shift
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  {
    echo "# $name command line, written by cluster-up.sh; cluster-ctl.sh start runs it"
    printf 'CMD_ENV=('; [ ${#envs[@]} -eq 0 ] || printf ' %q' "${envs[@]}"; printf ' )\n'
    printf 'CMD=('; printf ' %q' "$@"; printf ' )\n'
  } > "$(cmd_file "$name")"
}

# Starts a component from its cmd file in its own session, detached from the
# caller, appending to its log; the pid file holds the program's own pid.
launch_component() {
  local name=$1 CMD=() CMD_ENV=()
  # shellcheck source=/dev/null
  source "$(cmd_file "$name")"
  local pidf logf
  pidf=$(pid_file "$name")
  logf=$(log_file "$name")
  rm -f "$pidf"
  echo "=== $(date -u +%FT%TZ) starting $name" >> "$logf"
  # bash writes its own pid, then execs the program under the same pid.
  # shellcheck disable=SC2016  # expanded by the inner bash
  # fd 9 (the state lock, see lock_cluster) is closed so no daemon holds it.
  setsid nohup bash -c 'echo $$ > "$0"; exec env "$@"' "$pidf" "${CMD_ENV[@]}" "${CMD[@]}" \
    >> "$logf" 2>&1 < /dev/null 9>&- &
  local deadline=$((SECONDS + 10))
  until [ -s "$pidf" ]; do
    [ $SECONDS -lt $deadline ] || die "$name: no pid file after 10s"
    sleep 0.05
  done
}

# Stops a component by its recorded pid: SIGTERM, wait up to STOP_TIMEOUT,
# then SIGKILL. Nothing recorded or already gone is fine.
stop_component() {
  local name=$1 pid deadline
  if pid=$(component_pid "$name"); then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while component_pid "$name" > /dev/null; do
      if [ $SECONDS -ge $deadline ]; then
        log "$name did not stop within ${STOP_TIMEOUT}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 5))
        while component_pid "$name" > /dev/null; do
          [ $SECONDS -lt $deadline ] || die "$name (pid $pid) survived SIGKILL"
          sleep 0.1
        done
        break
      fi
      sleep 0.1
    done
  fi
  rm -f "$(pid_file "$name")"
}

log_tail() {
  local f
  f=$(log_file "$1")
  [ -f "$f" ] || return 0
  echo "----- last lines of $f -----" >&2
  tail -n "${2:-25}" "$f" >&2
  echo "-----" >&2
}

# ------------------------------------------------------------------ health --

# Succeeds when the component answers its health endpoint (quietly).
component_healthy() {
  local pki=$CLUSTER_DIR/pki
  case $1 in
    etcd)
      curl -sf --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health" 2>/dev/null \
        | grep -q '"health":"true"' ;;
    kube-apiserver)
      [ "$(curl -sf --max-time 2 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" \
        --key "$pki/admin.key" "https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null)" = ok ] ;;
    kube-controller-manager)
      [ "$(curl -sf --max-time 2 --cacert "$pki/ca.crt" \
        "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz" 2>/dev/null)" = ok ] ;;
    kube-scheduler)
      [ "$(curl -sf --max-time 2 --cacert "$pki/ca.crt" \
        "https://127.0.0.1:$SCHEDULER_PORT/healthz" 2>/dev/null)" = ok ] ;;
    kwok)
      [ "$(curl -sf --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz" 2>/dev/null)" = ok ] ;;
    prometheus) prometheus_healthy ;;
    containerd | kubelet | kube-proxy) real_node_component_healthy "$1" ;;
    *) return 1 ;;
  esac
}

# wait_healthy <component> [timeout]: polls until healthy; fails with the log
# tail if the process dies or the deadline passes.
wait_healthy() {
  local name=$1 timeout=${2:-$START_TIMEOUT} deadline
  deadline=$((SECONDS + timeout))
  until component_healthy "$name"; do
    if ! component_pid "$name" > /dev/null; then
      log_tail "$name" 40
      die "$name exited during start-up (log: $(log_file "$name"))"
    fi
    if [ $SECONDS -ge $deadline ]; then
      log_tail "$name" 40
      die "$name not healthy after ${timeout}s (log: $(log_file "$name"))"
    fi
    sleep 0.2
  done
}

start_component() {
  local name=$1
  if component_pid "$name" > /dev/null; then
    log "$name is already running (pid $(component_pid "$name"))"
  else
    launch_component "$name"
  fi
}

# ------------------------------------------------------------------- ports --

port_in_use() {
  if command -v ss > /dev/null 2>&1; then
    [ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]
  else
    (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# pick_ports <n>: n distinct free TCP ports on 127.0.0.1, chosen at random below
# the kernel's ephemeral range (so outgoing connections never take them), one
# per line. Random choice keeps two clones' clusters apart.
pick_ports() {
  local n=$1 lo=15000 hi eph_lo eph_hi chosen=() port tries=0
  read -r eph_lo eph_hi < /proc/sys/net/ipv4/ip_local_port_range || eph_lo=32768
  : "${eph_hi:=}"
  hi=$((eph_lo - 1))
  [ "$hi" -gt $((lo + 1000)) ] || { lo=20000; hi=29999; }
  while [ ${#chosen[@]} -lt "$n" ]; do
    tries=$((tries + 1))
    [ $tries -lt 1000 ] || die "no free TCP ports found on 127.0.0.1"
    port=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
    [[ " ${chosen[*]} " == *" $port "* ]] && continue
    port_in_use "$port" && continue
    chosen+=("$port")
  done
  printf '%s\n' "${chosen[@]}"
}

# shellcheck source-path=SCRIPTDIR source=real-node-lib.sh
source "$SCRIPTS_DIR/real-node-lib.sh"
# shellcheck source-path=SCRIPTDIR source=prometheus-lib.sh
source "$SCRIPTS_DIR/prometheus-lib.sh"
