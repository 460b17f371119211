#pragma once
// Sends one request per item from several threads at once, as a benchmark's
// burst of creates or patches: throttling or a restarting server (other tests
// share the cluster) is retried a few times with a growing pause.

#include <cstddef>
#include <functional>
#include <string>

namespace cd4ml::bench {

struct SendCounts {
  long already_existed = 0;  // AlreadyExists answers, counted as done
  long retries = 0;
};

// Calls send(i) for every i < count from `threads` threads. With
// `tolerate_exists`, AlreadyExists counts as done. Throws std::runtime_error
// (prefixed by `what`) when an item still fails after the last attempt.
SendCounts send_in_parallel(std::size_t count, int threads, bool tolerate_exists,
                            const std::function<void(std::size_t)>& send, const std::string& what);

}  // namespace cd4ml::bench
