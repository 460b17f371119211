#pragma once
// The operator's client stack in a benchmark process, and the options that
// lift its rate limits so that benchmarks measure the server and our code,
// not the client's throttle.

#include "e2e/common/client_session.hpp"

namespace cd4ml::bench {

inline kube::TransportOptions unthrottled(std::size_t connections = 8) {
  kube::TransportOptions options;
  options.qps = 100000;
  options.burst = 100000;
  options.max_idle_connections = connections;
  return options;
}

using BenchSession = e2e::ClientSession;

}  // namespace cd4ml::bench
