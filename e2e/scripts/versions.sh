# Pinned versions of the local control plane. The go.mod files under
# e2e/toolchain/ must require the same versions; build-toolchain.sh keys its
# cache on both.
KUBERNETES_VERSION=v1.35.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0
# Upstream's release tags (grpcnotrace keeps gRPC's tracing out of the binaries).
GO_BUILD_TAGS=selinux,notest,grpcnotrace
