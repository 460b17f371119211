# syntax=docker/dockerfile:1
# cd4ml-operator image: built on Debian 12 from the same packages as
# .ci/install-deps, run on Debian 12 slim with only the binary and the shared
# libraries it links (docs/container-image.md; e2e/packaging/dockerfile_test.cpp
# checks both package lists against .ci/install-deps and `ldd` of the binary).
#
#   docker build -t cd4ml-operator:0.1.0 .      (or: podman build ...)

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config git curl ca-certificates openssl jq procps \
      libboost-dev libboost-system-dev libssl-dev \
      nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev \
      googletest libgtest-dev libgmock-dev \
      prometheus-cpp-dev libcli11-dev libbenchmark-dev \
      clang-format clang-tidy \
      python3 python3-yaml lua5.1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# RelWithDebInfo is the configuration the tests run; the binary is stripped
# afterwards. CD4ML_UNIT_ONLY leaves the e2e tests (Go toolchain) out.
RUN git config --global --add safe.directory /src \
 && cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCD4ML_UNIT_ONLY=ON \
 && cmake --build /build --target cd4ml-operator \
 && strip /build/bin/cd4ml-operator \
 && /build/bin/cd4ml-operator --version

FROM debian:bookworm-slim AS runtime
# Exactly the packages that own the libraries `ldd cd4ml-operator` lists.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libc6 libgcc-s1 libstdc++6 libssl3 libyaml-cpp0.7 libspdlog1.10 libfmt9 \
      libprometheus-cpp-core1.0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/cd4ml-operator /usr/local/bin/cd4ml-operator
# 65532: the conventional "nonroot" uid/gid; no passwd entry is needed.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/cd4ml-operator"]
