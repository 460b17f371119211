#pragma once
// The operator's client stack in a benchmark process, and the options that
// lift its rate limits so that benchmarks measure the server and our code,
// not the client's throttle.

#include <chrono>
#include <initializer_list>
#include <stdexcept>
#include <thread>

#include "e2e/common/client_session.hpp"
#include "operator/runtime/informer.hpp"

namespace cd4ml::bench {

inline kube::TransportOptions unthrottled(std::size_t connections = 8) {
  kube::TransportOptions options;
  options.qps = 100000;
  options.burst = 100000;
  options.max_idle_connections = connections;
  return options;
}

using BenchSession = e2e::ClientSession;

// Returns once every informer has synced; throws at `deadline`. Polling costs
// at most a millisecond of a sync that takes from tens of ms to seconds.
inline void wait_for_sync(std::initializer_list<const runtime::Informer*> informers,
                          std::chrono::steady_clock::time_point deadline) {
  const auto synced = [&] {
    for (const auto* informer : informers) {
      if (!informer->has_synced()) return false;
    }
    return true;
  };
  while (!synced()) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("informers did not sync by the deadline");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

inline std::chrono::steady_clock::time_point in_seconds(int seconds) {
  return std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
}

}  // namespace cd4ml::bench
