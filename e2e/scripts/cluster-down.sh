#!/usr/bin/env bash
# Stops every process cluster-up.sh started, by the pids it recorded (SIGTERM,
# then SIGKILL after a deadline; never by name), puts back what the real node
# changed on the machine (real_node_teardown), and removes .cluster/.
# Safe to run when nothing is running.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"
LOG_PREFIX=cluster-down # read by log() in cluster-lib.sh
lock_cluster

if [ ! -d "$CLUSTER_DIR" ]; then
  log "no cluster state in $CLUSTER_DIR: nothing to do"
  exit 0
fi
# Processes started beside the control plane first (the demo's operator,
# e2e/scripts/demo.sh), recorded the same way as the components.
for f in "$CLUSTER_DIR"/cmd/*; do
  [ -f "$f" ] || continue
  c=$(basename "$f")
  is_component "$c" || stop_component "$c"
done
# The real node while the API server still answers: its pods are deleted
# through it, so the kubelet tears their sandboxes down.
load_env || true
real_node_teardown
for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
  c=${COMPONENTS[i]}
  [ -f "$(cmd_file "$c")" ] || continue
  stop_component "$c"
done
rm -rf "$CLUSTER_DIR"
log "stopped; removed $CLUSTER_DIR"
