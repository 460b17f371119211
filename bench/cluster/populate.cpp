#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "bench/cluster/bench_session.hpp"
#include "bench/cluster/scenarios.hpp"
#include "operator/kube/errors.hpp"
#include "operator/kube/resource.hpp"

namespace cd4ml::bench {

namespace {
// Throttling or a restarting server (other tests share the cluster) is retried.
constexpr int kAttempts = 5;
}  // namespace

Json populate(const PopulateOptions& options) {
  std::vector<Json> items = read_list_items(options.objects_file);
  for (auto& item : items) item["metadata"]["namespace"] = options.ns;
  BenchSession session(options.kubeconfig, unthrottled(static_cast<std::size_t>(options.threads)));

  std::atomic<std::size_t> next{0};
  std::atomic<long> created{0};
  std::atomic<long> existing{0};
  std::atomic<long> retries{0};
  std::mutex failure_mutex;
  std::string failure;

  const auto start = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (std::size_t i = next++; i < items.size(); i = next++) {
      for (int attempt = 1;; ++attempt) {
        try {
          session.client().create(kube::resources::kConfigMaps, options.ns, items[i]);
          ++created;
          break;
        } catch (const kube::ApiError& e) {
          if (kube::is_already_exists(e)) {
            ++existing;
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
  std::vector<std::thread> threads;
  for (int t = 0; t < options.threads; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  if (!failure.empty()) throw std::runtime_error("create failed: " + failure);

  return {{"namespace", options.ns},
          {"objects", items.size()},
          {"created", created.load()},
          {"already_existed", existing.load()},
          {"retries", retries.load()},
          {"threads", options.threads},
          {"seconds", took.count()},
          {"creates_per_second", static_cast<double>(created.load()) / took.count()}};
}

}  // namespace cd4ml::bench
