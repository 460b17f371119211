# cd4ml-operator: every entry point a developer or CI uses.
#   make demo     set up everything, start a local control plane, run the operator and a sample release
#   make test     unit tests, unit tests under ASan+UBSan, a short run of each fuzz target, then end-to-end tests on the local control plane
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 20
JOBS ?= $(shell nproc)
CTEST_FLAGS ?= --output-on-failure
CMAKE_GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")

.PHONY: setup deps toolchain configure build unit asan fuzz fuzz-smoke e2e test cluster-up \
        cluster-down demo bench lint tidy format clean help

help:
	@grep -E '^#   make' Makefile | sed 's/^#   //'
	@echo "other targets: setup build unit asan fuzz e2e cluster-up cluster-down bench lint tidy format clean"

## Installs system packages (Debian) and builds the pinned control-plane binaries, Prometheus and Helm into the cache.
setup: deps toolchain
deps:
	@.ci/install-deps
toolchain:
	@e2e/scripts/build-toolchain.sh etcd kwok kubernetes prometheus helm servicemonitor-crd \
	  gateway-api-crds >/dev/null

$(BUILD_DIR)/build.ninja $(BUILD_DIR)/Makefile:
	@cmake -S . -B $(BUILD_DIR) -G "$(CMAKE_GENERATOR)" >/dev/null

configure: deps $(BUILD_DIR)/build.ninja

## build/bin/cd4ml-operator and all test binaries.
build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

unit: build
	@cd $(BUILD_DIR) && ctest -L unit $(CTEST_FLAGS) -j $(JOBS)

## The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	@cmake -S . -B $(ASAN_BUILD_DIR) -G "$(CMAKE_GENERATOR)" -DCD4ML_SANITIZE=ON -DCD4ML_UNIT_ONLY=ON \
	  -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)
	@cd $(ASAN_BUILD_DIR) && ctest -L unit $(CTEST_FLAGS) -j $(JOBS)

## Every libFuzzer target of tests/fuzz for FUZZ_SECONDS each (clang, ASan + UBSan, build-fuzz/).
fuzz: deps
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: deps
	@tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS)

e2e: build cluster-up
	@cd $(BUILD_DIR) && ctest -L e2e $(CTEST_FLAGS)

## Sanitizer unit run and a short run of every fuzz target first, then one
## ctest run over unit + e2e tests, whose summary line ends the output.
test: deps toolchain asan fuzz-smoke build cluster-up
	@cd $(BUILD_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS)

cluster-up: deps
	@e2e/scripts/cluster-up.sh

cluster-down:
	@e2e/scripts/cluster-down.sh

demo: setup build cluster-up
	@e2e/scripts/demo.sh

bench: build cluster-up
	@bench/run.sh

FORMAT_FILES = $(shell git ls-files '*.cpp' '*.hpp')
lint:
	@clang-format --dry-run -Werror $(FORMAT_FILES)
format:
	@clang-format -i $(FORMAT_FILES)
## clang-tidy over the operator's sources (checks in .clang-tidy; minutes on 2 cores).
tidy: build
	@JOBS=$(JOBS) .ci/tidy $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) build-fuzz
