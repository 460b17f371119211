#include "bench/cluster/parallel_send.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "operator/kube/errors.hpp"

namespace cd4ml::bench {

namespace {
constexpr int kAttempts = 5;
}  // namespace

SendCounts send_in_parallel(std::size_t count, int threads, bool tolerate_exists,
                            const std::function<void(std::size_t)>& send, const std::string& what) {
  std::atomic<std::size_t> next{0};
  std::atomic<long> already_existed{0};
  std::atomic<long> retries{0};
  std::mutex failure_mutex;
  std::string failure;
  auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      for (int attempt = 1;; ++attempt) {
        try {
          send(i);
          break;
        } catch (const kube::ApiError& e) {
          if (tolerate_exists && kube::is_already_exists(e)) {
            ++already_existed;
            break;
          }
          if (attempt >= kAttempts) {
            std::lock_guard lock(failure_mutex);
            failure = e.what();
            return;
          }
          ++retries;
          std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (!failure.empty()) throw std::runtime_error(what + " failed: " + failure);
  return {already_existed.load(), retries.load()};
}

}  // namespace cd4ml::bench
