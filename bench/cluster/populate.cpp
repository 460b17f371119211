#include <chrono>

#include "bench/cluster/bench_session.hpp"
#include "bench/cluster/parallel_send.hpp"
#include "bench/cluster/scenarios.hpp"
#include "operator/kube/resource.hpp"

namespace cd4ml::bench {

Json populate(const PopulateOptions& options) {
  std::vector<Json> items = read_list_items(options.objects_file);
  for (auto& item : items) item["metadata"]["namespace"] = options.ns;
  BenchSession session(options.kubeconfig, unthrottled(static_cast<std::size_t>(options.threads)));

  const auto start = std::chrono::steady_clock::now();
  const SendCounts counts = send_in_parallel(
      items.size(), options.threads, true,
      [&](std::size_t i) {
        session.client().create(kube::resources::kConfigMaps, options.ns, items[i]);
      },
      "create");
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  const long created = static_cast<long>(items.size()) - counts.already_existed;

  return {{"namespace", options.ns},
          {"objects", items.size()},
          {"created", created},
          {"already_existed", counts.already_existed},
          {"retries", counts.retries},
          {"threads", options.threads},
          {"seconds", took.count()},
          {"creates_per_second", static_cast<double>(created) / took.count()}};
}

}  // namespace cd4ml::bench
