# Pinned versions of the local control plane. The go.mod files under
# e2e/toolchain/ must require the same versions; build-toolchain.sh keys its
# cache on both.
KUBERNETES_VERSION=v1.35.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0
# The Go that builds them (e2e/scripts/go-toolchain.sh fetches it when the
# machine has no Go this new: linux-amd64 toolchain zip from the module proxy).
GO_VERSION=1.26.8
GO_TOOLCHAIN_SHA256=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
# Upstream's release tags (grpcnotrace keeps gRPC's tracing out of the binaries).
GO_BUILD_TAGS=selinux,notest,grpcnotrace
# ---- Pins from here on count only in their own component's stamp
# (build-toolchain.sh), so adding or bumping one rebuilds nothing else.
# Prometheus, the local cluster's monitoring: its module tag v0.3MM.P is
# release 3.MM.P. Upstream's release tags are netgo,builtinassets; the web UI
# (builtinassets, built with npm, not in the module) is left out, and of the
# service discoveries only Kubernetes is built (file and static always are).
PROMETHEUS_VERSION=v0.316.0
PROMETHEUS_BUILD_TAGS=netgo,remove_all_sd,enable_kubernetes_sd
