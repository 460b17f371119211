#!/usr/bin/env bash
# Builds the local control plane's binaries from pinned Go modules, once per
# pinned version, into a cache outside the repository. A warm call only checks
# stamps and returns.
#
#   build-toolchain.sh [kubernetes|kubernetes-node|etcd|kwok|helm|prometheus|servicemonitor-crd|
#                       gateway-api-crds ...]
#                                  (default: the control plane: etcd kwok kubernetes)
#
# kubernetes-node is the real node's kubelet and kube-proxy, from the same
# module and version as the control plane (its own stamp, so a cluster
# without a real node never builds them). prometheus is prometheus and
# promtool (cluster-up.sh starts Prometheus beside the control plane).
#
# Prints nothing but the cache's bin directory on stdout, so callers can do
#   bin=$(e2e/scripts/build-toolchain.sh)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
toolchain=$(cd "$here/../toolchain" && pwd)
# shellcheck source-path=SCRIPTDIR source=versions.sh
source "$here/versions.sh"
# shellcheck source-path=SCRIPTDIR source=go-toolchain.sh
source "$here/go-toolchain.sh"
ensure_go

cache_root=${CD4ML_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cd4ml-operator}
bin_dir="$cache_root/bin"
mkdir -p "$bin_dir"

log() { echo "build-toolchain: $*" >&2; }

# A component's stamp is the hash of what goes into its build: module files,
# pinned versions, ldflags, tags and packages. A version bump or a flag change
# rebuilds that component; editing the rest of this script rebuilds nothing.
# The components that came first hash versions.sh only up to its "---- Pins
# from here on" line; those pinned below it hash all of it, so a later pin
# (Prometheus) rebuilds nothing but itself, and clones that share the cache
# with and without it do not rebuild each other's Kubernetes.
build_stamp() {
  local module=$1 versions=$2 tags=$3
  shift 3
  { cat "$toolchain/$module"/go.mod "$toolchain/$module"/go.sum
    if [ "$versions" = all ]; then
      cat "$here/versions.sh"
    else
      sed '/^# ---- Pins from here on/,$d' "$here/versions.sh"
    fi
    printf '%s\n' "$tags" "$@"; } | sha256sum | cut -c1-16
}

# build_component <module dir> <stamp name> <ldflags> <package=output ...>
# Tags are GO_BUILD_TAGS unless BUILD_TAGS is set; PINNED_BELOW=1 marks a
# component pinned below versions.sh's "---- Pins from here on" line.
build_component() {
  local module=$1 name=$2 ldflags=$3 tags=${BUILD_TAGS:-$GO_BUILD_TAGS} versions=head
  [ "${PINNED_BELOW:-0}" = 0 ] || versions=all
  shift 3
  local stamp_file="$cache_root/stamps/$name" want
  want=$(build_stamp "$module" "$versions" "$tags" "$ldflags" "$@")
  local missing=0 spec
  for spec in "$@"; do [ -x "$bin_dir/${spec#*=}" ] || missing=1; done
  if [ "$missing" = 0 ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ]; then
    return 0
  fi
  mkdir -p "$cache_root/stamps"
  for spec in "$@"; do
    local pkg=${spec%=*} out=${spec#*=} start=$SECONDS
    log "building $out from $pkg (cold builds take minutes)"
    (cd "$toolchain/$module" && CGO_ENABLED=0 go build -trimpath \
      -tags "$tags" -ldflags "$ldflags" -o "$bin_dir/$out.tmp" "$pkg")
    mv "$bin_dir/$out.tmp" "$bin_dir/$out"
    log "built $out in $((SECONDS - start))s"
  done
  echo "$want" > "$stamp_file"
}

kube_ldflags() {
  local v=$KUBERNETES_VERSION major minor flags="-s -w"
  major=${v#v}; major=${major%%.*}
  minor=${v#v*.}; minor=${minor%%.*}
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

# helm prints this version (its default names only major.minor).
helm_ldflags() {
  local pkg=helm.sh/helm/v3/internal/version
  echo "-s -w -X $pkg.version=$HELM_VERSION -X $pkg.gitTreeState=clean"
}

# Prometheus prints this version and build context (`prometheus --version`,
# its build_info metric); the revision is the module's tag, as the module
# carries no commit.
prometheus_ldflags() {
  local pkg=github.com/prometheus/common/version minor=${PROMETHEUS_VERSION#v0.} patch
  patch=${minor#*.}
  minor=${minor%%.*}
  echo "-s -w -X $pkg.Version=$((minor / 100)).$((minor % 100)).$patch" \
    "-X $pkg.Revision=$PROMETHEUS_VERSION -X $pkg.Branch=HEAD" \
    "-X $pkg.BuildUser=cd4ml-build-toolchain -X $pkg.BuildDate=19700101-00:00:00"
}

# The ServiceMonitor CRD of the release pinned in toolchain/prometheus-operator,
# from the Go module proxy (checked against go.sum), copied to
# $cache_root/crds/ for the chart's e2e test. Not built: a file is all it takes.
fetch_servicemonitor_crd() {
  local info dir version
  info=$(cd "$toolchain/prometheus-operator" &&
    go mod download -json github.com/prometheus-operator/prometheus-operator)
  dir=$(jq -r .Dir <<< "$info")
  version=$(jq -r .Version <<< "$info")
  local out="$cache_root/crds/servicemonitors-$version.yaml"
  if [ ! -f "$out" ]; then
    mkdir -p "$cache_root/crds"
    cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" "$out.tmp"
    chmod u+w "$out.tmp"
    mv "$out.tmp" "$out"
    log "ServiceMonitor CRD of prometheus-operator $version in $out"
  fi
  ln -sfn "$out" "$cache_root/crds/servicemonitors.yaml"
}

# The Gateway API standard-channel CRDs of the release pinned in
# toolchain/gateway-api, from the Go module proxy (checked against go.sum),
# copied to $cache_root/crds/gateway-api-<version>/ (and linked as
# crds/gateway-api) for the canary's traffic-routing tests.
fetch_gateway_api_crds() {
  local info dir version
  info=$(cd "$toolchain/gateway-api" && go mod download -json sigs.k8s.io/gateway-api)
  dir=$(jq -r .Dir <<< "$info")
  version=$(jq -r .Version <<< "$info")
  local out="$cache_root/crds/gateway-api-$version"
  if [ ! -d "$out" ]; then
    mkdir -p "$out.tmp"
    cp "$dir"/config/crd/standard/*.yaml "$out.tmp/"
    chmod -R u+w "$out.tmp"
    mv "$out.tmp" "$out"
    log "Gateway API $version standard CRDs in $out"
  fi
  ln -sfn "$out" "$cache_root/crds/gateway-api"
}

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(etcd kwok kubernetes)
for c in "${components[@]}"; do
  case $c in
    kubernetes)
      build_component kubernetes "kubernetes-$KUBERNETES_VERSION" "$(kube_ldflags)" \
        k8s.io/kubernetes/cmd/kube-apiserver=kube-apiserver \
        k8s.io/kubernetes/cmd/kube-controller-manager=kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler=kube-scheduler \
        k8s.io/kubernetes/cmd/kubectl=kubectl ;;
    kubernetes-node)
      build_component kubernetes "kubernetes-node-$KUBERNETES_VERSION" "$(kube_ldflags)" \
        k8s.io/kubernetes/cmd/kubelet=kubelet \
        k8s.io/kubernetes/cmd/kube-proxy=kube-proxy ;;
    etcd)
      build_component etcd "etcd-$ETCD_VERSION" "-s -w" .=etcd ;;
    kwok)
      build_component kwok "kwok-$KWOK_VERSION" "-s -w" sigs.k8s.io/kwok/cmd/kwok=kwok ;;
    helm)
      build_component helm "helm-$HELM_VERSION" "$(helm_ldflags)" helm.sh/helm/v3/cmd/helm=helm ;;
    prometheus)
      PINNED_BELOW=1 BUILD_TAGS=$PROMETHEUS_BUILD_TAGS \
        build_component prometheus "prometheus-$PROMETHEUS_VERSION" "$(prometheus_ldflags)" \
        github.com/prometheus/prometheus/cmd/prometheus=prometheus \
        github.com/prometheus/prometheus/cmd/promtool=promtool ;;
    servicemonitor-crd)
      fetch_servicemonitor_crd ;;
    gateway-api-crds)
      fetch_gateway_api_crds ;;
    *) log "unknown component $c"; exit 2 ;;
  esac
done
echo "$bin_dir"
