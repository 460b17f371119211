# shellcheck shell=bash
# What the two demos share (demo.sh on the real node, demo-fake-trainer.sh
# with kwok): arguments, the narration helpers, the CRDs, the demo's own
# operator and the live Event feed. Sourced after cluster-lib.sh.

# demo_args "$@": sets NS (default cd4ml-demo) and clean (true/false).
demo_args() {
  NS=cd4ml-demo
  clean=false
  while [ $# -gt 0 ]; do
    case $1 in
      --namespace) [ $# -ge 2 ] || die "--namespace needs a value"; NS=$2; shift 2 ;;
      --namespace=*) NS=${1#*=}; shift ;;
      --clean) clean=true; shift ;;
      *) die "unknown argument '$1' (usage: $(basename "$0") [--namespace NS] [--clean])" ;;
    esac
  done
}

# demo_init: the running cluster's settings, the operator's name and colours.
demo_init() {
  load_env || die "no local cluster: run make cluster-up first"
  OPERATOR=$REPO_ROOT/build/bin/cd4ml-operator
  # One operator per demo namespace, recorded like the cluster's components so
  # cluster-down stops it too.
  if [ "$NS" = cd4ml-demo ]; then OPERATOR_NAME=cd4ml-operator; else OPERATOR_NAME=cd4ml-operator.$NS; fi
  export KUBECONFIG=$KUBECONFIG_FILE
  if [ -t 1 ]; then
    B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' Y=$'\e[33m' R=$'\e[0m' JQ_COLOR=-C
  else
    B='' D='' G='' Y='' R='' JQ_COLOR=-M
  fi
}

kubectl() { "$CLUSTER_BIN_DIR/kubectl" "$@"; }
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$R"; }
say() { printf '    %s\n' "$*"; }
show() { printf '%s    $ %s%s\n' "$D" "$*" "$R"; "$@" 2>&1 | sed 's/^/    /'; }

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

# demo_clean: stops the demo's operator and deletes its namespace.
demo_clean() {
  if [ -f "$(cmd_file "$OPERATOR_NAME")" ]; then
    stop_component "$OPERATOR_NAME"
    rm -f "$(cmd_file "$OPERATOR_NAME")"
  fi
  kubectl delete namespace "$NS" --ignore-not-found --wait=false
}

# demo_install_crds <step number>
demo_install_crds() {
  step "$1 Installing the CRDs (crds/)"
  kubectl apply --server-side --force-conflicts -f "$REPO_ROOT/crds" | sed 's/^/    /'
  kubectl wait --for=condition=Established --timeout=60s \
    crd/trainingruns.cd4ml.io crd/modelreleases.cd4ml.io > /dev/null
}

# demo_start_operator <step number>: sets metrics_port and health_port.
demo_start_operator() {
  step "$1 Starting the operator"
  stop_component "$OPERATOR_NAME" > /dev/null 2>&1 || true
  read -r metrics_port health_port <<< "$(pick_ports 2 | tr '\n' ' ')"
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
}

# demo_watch_events: creates the namespace and prints everything the operator
# reports there from now on, as it happens (events_pid; demo_stop_events ends
# it). ('|' separates fields: kubectl pads tabs into columns.) Each printed
# line is also appended to $events_seen, so the script can wait until one has
# shown (event_shown).
demo_watch_events() {
  kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - > /dev/null
  events_seen=$(mktemp)
  kubectl -n "$NS" get events --watch-only \
    -o 'jsonpath={.involvedObject.kind}/{.involvedObject.name}|{.reason}|{.message}{"\n"}' \
    2>/dev/null | while IFS='|' read -r object reason message; do
      case $object in TrainingRun/*|ModelRelease/*) ;; *) continue ;; esac
      color=$G
      case $reason in GateFailed|Failed|Aborted|ProgressDeadlineExceeded|InvalidMetrics|*Failing) color=$Y ;; esac
      printf '    %s│ %-20s %s%-16s%s %s%s\n' "$D" "$object" "$color" "$reason" "$R$D" "$message" "$R"
      echo "$object $reason $message" >> "$events_seen"
    done &
  events_pid=$!
}
event_shown() { grep -q -- "$1" "$events_seen"; }
demo_stop_events() {
  kill "$events_pid" 2>/dev/null || true
  rm -f "$events_seen"
}
