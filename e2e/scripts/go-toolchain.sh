# shellcheck shell=bash
# Makes a Go of at least GO_VERSION (versions.sh) the `go` on PATH. Sourced by
# .ci/install-deps, build-toolchain.sh and bench/lib.sh; call ensure_go.
#
# A Go that new on PATH is used as it is. Otherwise (a fresh Debian has none,
# or an older one) the pinned toolchain is fetched once from the Go module
# proxy, where Go itself publishes it as module golang.org/toolchain, checked
# against the sha256 pinned in versions.sh, and kept in the cache:
# <cache>/go/go<version>. Only linux-amd64 is pinned; elsewhere install Go.

_go_cache_root=${CD4ML_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cd4ml-operator}

_go_new_enough() {
  local have
  have=$(go env GOVERSION 2>/dev/null) || return 1
  have=${have#go}
  [ "$(printf '%s\n%s\n' "$GO_VERSION" "$have" | sort -V | head -n1)" = "$GO_VERSION" ]
}

_go_fetch() {
  local dir=$1 module="v0.0.1-go$GO_VERSION.linux-amd64" proxy tmp
  proxy=${GOPROXY:-https://proxy.golang.org}
  proxy=${proxy%%,*}
  case $proxy in direct | off) proxy=https://proxy.golang.org ;; esac
  echo "go-toolchain: fetching Go $GO_VERSION from $proxy (golang.org/toolchain $module)" >&2
  tmp=$(mktemp -d)
  # (Called as `_go_fetch ... || return`, where set -e does not apply: each
  # step checks for itself, and nothing reaches the cache unless all passed.)
  if ! curl -fsSL --retry 3 -o "$tmp/go.zip" "$proxy/golang.org/toolchain/@v/$module.zip"; then
    rm -rf "$tmp"
    echo "go-toolchain: could not download $module from $proxy" >&2
    return 1
  fi
  if ! echo "$GO_TOOLCHAIN_SHA256  $tmp/go.zip" | sha256sum -c --quiet - > /dev/null 2>&1; then
    rm -rf "$tmp"
    echo "go-toolchain: checksum mismatch for $module (want $GO_TOOLCHAIN_SHA256)" >&2
    return 1
  fi
  # Module zips keep their files under <module>@<version>/ and cannot hold
  # go.mod files of nested modules, so the toolchain ships them as _go.mod;
  # the go command's own toolchain download renames them back and makes
  # bin/ and pkg/tool/ executable, and so does this. (Python: the images
  # have no unzip.)
  if ! python3 - "$tmp/go.zip" "$tmp/x" <<'PY'; then
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        path = z.extract(info, sys.argv[2])
        mode = (info.external_attr >> 16) & 0o777
        # golang.org/toolchain@<version>/<path in GOROOT>
        parts = info.filename.split("/")[2:]
        if len(parts) > 1 and (parts[0] == "bin" or parts[:2] == ["pkg", "tool"]):
            mode |= 0o755
        if mode:
            os.chmod(path, mode)
        if os.path.basename(path) == "_go.mod":
            os.rename(path, os.path.join(os.path.dirname(path), "go.mod"))
PY
    rm -rf "$tmp"
    echo "go-toolchain: could not unpack $module" >&2
    return 1
  fi
  mkdir -p "$(dirname "$dir")" && rm -rf "$dir" && mv "$tmp/x/golang.org/toolchain@$module" "$dir"
  local moved=$?
  rm -rf "$tmp"
  return $moved
}

ensure_go() {
  if command -v go > /dev/null 2>&1 && _go_new_enough; then
    return 0
  fi
  local dir="$_go_cache_root/go/go$GO_VERSION"
  if [ ! -x "$dir/bin/go" ]; then
    if [ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]; then
      echo "go-toolchain: Go $GO_VERSION or newer is needed; install it (only linux-amd64 is fetched)" >&2
      return 1
    fi
    _go_fetch "$dir" || return 1
  fi
  export PATH="$dir/bin:$PATH" GOTOOLCHAIN=local
  _go_new_enough || {
    echo "go-toolchain: $dir/bin/go does not run" >&2
    return 1
  }
}
