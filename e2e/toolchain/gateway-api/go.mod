// Pins the Gateway API release whose standard-channel CRDs (HTTPRoute and
// the rest, with the ValidatingAdmissionPolicy of the bundle) the canary's
// traffic-routing tests install in the local cluster. Only the CRD files are
// used (build-toolchain.sh gateway-api-crds); nothing is compiled.
module cd4ml.io/e2e/toolchain/gateway-api

go 1.26

require sigs.k8s.io/gateway-api v1.6.3
