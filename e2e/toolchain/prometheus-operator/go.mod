// Pins the prometheus-operator release whose ServiceMonitor CRD the chart's
// optional ServiceMonitor is validated against (e2e ChartE2E). Only the CRD
// file is used (build-toolchain.sh servicemonitor-crd); nothing is compiled.
module cd4ml.io/e2e/toolchain/prometheus-operator

go 1.26

require github.com/prometheus-operator/prometheus-operator v0.85.0
