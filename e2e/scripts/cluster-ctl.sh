#!/usr/bin/env bash
# Controls single components of the running local control plane, e.g. to stop
# and restart kube-apiserver in the middle of a watch.
#
#   cluster-ctl.sh status                 every component: pid, health, port
#   cluster-ctl.sh stop <component>       SIGTERM by recorded pid (SIGKILL after a deadline)
#   cluster-ctl.sh kill <component>       SIGKILL by recorded pid, no grace
#   cluster-ctl.sh start <component>      start with the command line cluster-up.sh
#                                         recorded in .cluster/cmd/<component>; waits
#                                         until it is healthy
#   cluster-ctl.sh restart <component>    stop, then start
#   cluster-ctl.sh env                    print .cluster/env (ports and paths)
#
# Components: etcd kube-apiserver kube-controller-manager kube-scheduler kwok
# prometheus, and with the real node: containerd kubelet kube-proxy
# Exit status: 0 on success; status exits 1 when a component is down.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"
LOG_PREFIX=cluster-ctl # read by log() in cluster-lib.sh

usage() { sed -n '2,16s/^# \{0,1\}//p' "$0" >&2; exit 2; }

[ $# -ge 1 ] || usage
action=$1
shift
load_env || die "no cluster recorded in $CLUSTER_DIR (run make cluster-up)"

component_port() {
  case $1 in
    etcd) echo "$ETCD_CLIENT_PORT" ;;
    kube-apiserver) echo "$APISERVER_PORT" ;;
    kube-controller-manager) echo "$CONTROLLER_MANAGER_PORT" ;;
    kube-scheduler) echo "$SCHEDULER_PORT" ;;
    kwok) echo "$KWOK_PORT" ;;
    prometheus) echo "$PROMETHEUS_PORT" ;;
    containerd) echo - ;;
    kubelet) echo "$KUBELET_PORT" ;;
    kube-proxy) echo "$KUBE_PROXY_HEALTHZ_PORT" ;;
  esac
}

# A freshly started kube-apiserver answers /readyz before its RBAC cache is
# filled; controllers that connect in that window get 403 and back off for
# many seconds. Return only once a controller identity is authorized again.
wait_authorizer_warm() {
  [ "$1" = kube-apiserver ] || return 0
  local deadline=$((SECONDS + START_TIMEOUT))
  until [ "$("$CLUSTER_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" auth can-i list \
            serviceaccounts -A --as=system:kube-controller-manager 2>/dev/null)" = yes ]; do
    [ $SECONDS -lt $deadline ] || die "kube-apiserver authorization not ready after ${START_TIMEOUT}s"
    sleep 0.2
  done
}

need_component() {
  [ $# -eq 1 ] || usage
  is_component "$1" || die "unknown component '$1' (one of: $(cluster_components | xargs))"
  [ -f "$(cmd_file "$1")" ] || die "no recorded command line for $1 in $CLUSTER_DIR/cmd"
}

case $action in
  status)
    rc=0
    printf '%-24s %-8s %-6s %-9s %s\n' COMPONENT PID PORT HEALTH LOG
    for c in $(cluster_components); do
      pid=$(component_pid "$c") || { pid=-; rc=1; }
      health=down
      if [ "$pid" != - ]; then
        if component_healthy "$c"; then health=ok; else health=unhealthy; rc=1; fi
      fi
      printf '%-24s %-8s %-6s %-9s %s\n' "$c" "$pid" "$(component_port "$c")" "$health" "$(log_file "$c")"
    done
    exit $rc ;;
  stop)
    need_component "$@"
    stop_component "$1" ;;
  kill)
    need_component "$@"
    if pid=$(component_pid "$1"); then
      log "killing $1 (pid $pid) with SIGKILL"
      kill -KILL "$pid"
      deadline=$((SECONDS + 5))
      while component_pid "$1" > /dev/null; do
        [ $SECONDS -lt $deadline ] || die "$1 (pid $pid) survived SIGKILL"
        sleep 0.05
      done
      rm -f "$(pid_file "$1")"
    fi ;;
  start)
    need_component "$@"
    start_component "$1"
    wait_healthy "$1"
    wait_authorizer_warm "$1"
    log "$1 running (pid $(component_pid "$1")) and healthy" ;;
  restart)
    need_component "$@"
    stop_component "$1"
    start_component "$1"
    wait_healthy "$1"
    wait_authorizer_warm "$1"
    log "$1 restarted (pid $(component_pid "$1")) and healthy" ;;
  env)
    cat "$CLUSTER_DIR/env" ;;
  *) usage ;;
esac
