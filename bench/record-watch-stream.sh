#!/usr/bin/env bash
# Records the watch stream that the decode benchmark (watch_decode_bench)
# replays: 2,000 ConfigMap events of ~1.4 KiB (1,000 ADDED, 800 MODIFIED, 200 DELETED)
# exactly as kube-apiserver sent them, one JSON event per line, including the
# managedFields the server adds. Run once against the local control plane; the
# result is committed as bench/data/configmap-watch.jsonl.gz.
#
#   bench/record-watch-stream.sh        (needs `make cluster-up`)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
kubectl=("$repo/.cluster/bin/kubectl" --kubeconfig "$repo/.cluster/kubeconfig")
out=$repo/bench/data/configmap-watch.jsonl.gz
ns=cd4ml-bench-record-$$
work=$(mktemp -d)
watch_pid=""

cleanup() {
  if [ -n "$watch_pid" ]; then kill "$watch_pid" 2>/dev/null || true; fi
  "${kubectl[@]}" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

configmaps() {  # first count generation
  awk -v ns="$ns" -v first="$1" -v count="$2" -v generation="$3" \
    -f "$repo/bench/configmap-list.awk"
}

"${kubectl[@]}" create namespace "$ns" >/dev/null
# Without a resourceVersion the watch starts now and sees only what follows.
"${kubectl[@]}" get --raw \
  "/api/v1/namespaces/$ns/configmaps?watch=1&allowWatchBookmarks=true&timeoutSeconds=600" \
  > "$work/stream.jsonl" &
watch_pid=$!
sleep 1  # the watch must be open before the first create

for first in $(seq 0 100 900); do configmaps "$first" 100 1 > "$work/create-$first.json"; done
for first in $(seq 0 100 700); do configmaps "$first" 100 2 > "$work/update-$first.json"; done
for f in "$work"/create-*.json; do "${kubectl[@]}" create -f "$f" >/dev/null; done
for f in "$work"/update-*.json; do "${kubectl[@]}" replace -f "$f" >/dev/null; done
mapfile -t deleted < <(printf 'cm-%05d\n' $(seq 800 999))
"${kubectl[@]}" delete -n "$ns" configmap "${deleted[@]}" >/dev/null

events() { grep -cv '"type":"BOOKMARK"' "$work/stream.jsonl" || true; }
for _ in $(seq 100); do
  [ "$(events)" -ge 2000 ] && break
  sleep 0.2
done
kill "$watch_pid"
wait "$watch_pid" 2>/dev/null || true
watch_pid=""
# Plus the namespace's kube-root-ca.crt, which kube-controller-manager adds.
[ "$(events)" -ge 2000 ] || { echo "expected 2000 events, got $(events)" >&2; exit 1; }

gzip -9n < "$work/stream.jsonl" > "$out"
echo "recorded $(wc -l < "$work/stream.jsonl") lines, $(wc -c < "$work/stream.jsonl") bytes" \
  "-> $out ($(wc -c < "$out") bytes)"
