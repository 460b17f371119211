#!/usr/bin/env bash
# Tests go-toolchain.sh without the network: a fake Go toolchain module zip
# is served by a file:// GOPROXY (curl reads it like the real proxy).
#   1. no Go this new on PATH -> the pinned toolchain is fetched, checked, cached, used;
#   2. a second call uses the cache (the proxy is gone by then);
#   3. a zip whose sha256 is not the pinned one is refused, nothing is cached;
#   4. a Go new enough on PATH is used as it is, nothing is fetched.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "test-go-toolchain: FAIL: $*" >&2; exit 1; }

# A toolchain whose `go` answers `go env GOVERSION` with its version, zipped
# like the real one may be: no file modes, nested go.mod files as _go.mod.
fake_toolchain_zip() {
  local version=$1 zip=$2 root="$work/src/golang.org/toolchain@v0.0.1-go$1.linux-amd64"
  mkdir -p "$root/bin" "$root/src"
  echo "module std" > "$root/src/_go.mod"
  # shellcheck disable=SC2016  # expanded by the fake go, not here
  printf '#!/bin/sh\n[ "$1 $2" = "env GOVERSION" ] && echo go%s\n' "$version" > "$root/bin/go"
  chmod 755 "$root/bin/go"
  (cd "$work/src" && python3 -c '
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for d, _, files in os.walk("golang.org"):
        for f in files:
            path = os.path.join(d, f)
            with open(path, "rb") as data:
                z.writestr(zipfile.ZipInfo(path), data.read())  # external_attr 0: no modes
' "$zip")
  rm -rf "$work/src"
}

proxy="$work/proxy/golang.org/toolchain/@v"
mkdir -p "$proxy"
fake_toolchain_zip 9.9.9 "$proxy/v0.0.1-go9.9.9.linux-amd64.zip"
good_sha=$(sha256sum "$proxy/v0.0.1-go9.9.9.linux-amd64.zip" | cut -d' ' -f1)
# No real Go is as new as 9.9.9, so whatever Go this PATH has never counts.
no_go_path=$PATH
[ "$(uname -s)/$(uname -m)" = Linux/x86_64 ] || { echo "test-go-toolchain: skipped off linux-amd64"; exit 0; }

run() {  # run <cache> <sha> <proxy url> <PATH>: ensure_go, then print the go it gives
  # shellcheck disable=SC2016  # expanded by the inner bash
  env PATH="$4" CD4ML_CACHE_DIR="$1" GOPROXY="$3" bash -c '
    set -euo pipefail
    source "$0/versions.sh"
    GO_VERSION=9.9.9 GO_TOOLCHAIN_SHA256=$1
    source "$0/go-toolchain.sh"
    ensure_go
    echo "$(command -v go) $(go env GOVERSION)"' "$here" "$2"
}

# 1 and 2
out=$(run "$work/cache" "$good_sha" "file://$work/proxy" "$no_go_path") || fail "fetch failed"
[ "$out" = "$work/cache/go/go9.9.9/bin/go go9.9.9" ] || fail "fetched toolchain not used: $out"
if [ ! -f "$work/cache/go/go9.9.9/src/go.mod" ] || [ -e "$work/cache/go/go9.9.9/src/_go.mod" ]; then
  fail "src/_go.mod was not renamed to go.mod"
fi
out=$(run "$work/cache" "$good_sha" "file://$work/nowhere" "$no_go_path") || fail "cache not used"
[ "$out" = "$work/cache/go/go9.9.9/bin/go go9.9.9" ] || fail "cached toolchain not used: $out"

# 3
if out=$(run "$work/cache2" "$(printf '0%.0s' {1..64})" "file://$work/proxy" "$no_go_path" 2>&1); then
  fail "a zip with the wrong sha256 was accepted: $out"
fi
[[ $out == *"checksum mismatch"* ]] || fail "no checksum message: $out"
[ ! -e "$work/cache2/go/go9.9.9" ] || fail "a refused toolchain was cached"

# 4: the fetched fake on PATH counts as a Go new enough.
out=$(run "$work/cache3" "$good_sha" "file://$work/nowhere" "$work/cache/go/go9.9.9/bin:$no_go_path") \
  || fail "a new enough Go on PATH was not used"
[ "$out" = "$work/cache/go/go9.9.9/bin/go go9.9.9" ] || fail "PATH's Go not used: $out"
[ ! -e "$work/cache3/go" ] || fail "fetched although PATH had a new enough Go"
# 5: an unreachable proxy is an error, not a checksum mismatch, and caches nothing.
if out=$(run "$work/cache4" "$good_sha" "file://$work/nowhere" "$no_go_path" 2>&1); then
  fail "a missing download was accepted: $out"
fi
[[ $out == *"could not download"* ]] || fail "no download message: $out"
[ ! -e "$work/cache4/go" ] || fail "a failed download left something in the cache"
echo "test-go-toolchain: ok (fetch, cache, checksum refusal, PATH's own Go, no proxy)"
