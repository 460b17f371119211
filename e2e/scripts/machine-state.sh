#!/usr/bin/env bash
# Prints, in a stable order, what a local cluster and its real node could
# leave behind on this machine: mounts, network devices and addresses,
# network namespaces, iptables rules and nftables tables, cgroups, the
# sysctls and host paths the real node touches, and processes of the local
# cluster. Two snapshots are compared with diff (the test e2e.machine-restored
# takes one before cluster-up and one after cluster-down).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"

section() { echo "## $1"; }

section mounts
findmnt -rn -o TARGET,FSTYPE | sort

section links
ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort

section addresses
ip -o addr show | awk '{print $2, $3, $4}' | sort

section routes
ip route show table all 2> /dev/null | grep -v '^local\|^broadcast' | sort || true

section netns
ip netns list 2> /dev/null | sort || true

# Counters and the header/footer comments change on their own.
for cmd in iptables ip6tables; do
  section "$cmd"
  "$cmd-save" 2> /dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]$//' || true
done

section nft-tables
nft list tables 2> /dev/null | sort || true

# The kubelet's (kubepods/<qos>/pod<uid>/<container id>) and runc's; other
# cgroups of the machine come and go with whatever else runs on it.
section cgroups
find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d 2> /dev/null |
  grep -E '/(kubepods|cd4ml[^/]*|pod[0-9a-f-]{36}|[0-9a-f]{64})(/|$)' | sort || true

section sysctls
for s in "${REAL_NODE_SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s" 2> /dev/null)"; done

section host-paths
for p in "${REAL_NODE_HOST_PATHS[@]}" "$REAL_NODE_OWNER_FILE"; do
  [ -e "$p" ] && echo "$p"
done

# Anything started from this checkout's cluster directory, and the real
# node's programs (there is one real node per machine, whichever checkout
# started it; control planes of other checkouts are their own business).
section processes
ps -eo comm=,args= | awk -v dir="$CLUSTER_DIR" '
  $1 ~ /^(containerd|containerd-shim|kubelet|kube-proxy|pause|runc)$/ || index($0, dir "/") { print }' |
  sort
