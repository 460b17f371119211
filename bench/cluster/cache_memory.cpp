#include <stdexcept>

#include "bench/cluster/bench_session.hpp"
#include "bench/cluster/process_memory.hpp"
#include "bench/cluster/scenarios.hpp"
#include "operator/kube/resource.hpp"
#include "operator/runtime/informer.hpp"

namespace cd4ml::bench {

namespace {

Json memory_json(const MemorySample& sample) {
  return {{"rss_bytes", sample.resident_bytes}, {"heap_in_use_bytes", sample.heap_in_use_bytes}};
}

}  // namespace

Json cache_memory(const CacheMemoryOptions& options) {
  BenchSession session(options.kubeconfig, unthrottled());
  // The baseline includes an open, authenticated connection, as any operator
  // has one before its caches start.
  session.client().get(kube::resources::kNamespaces, "", options.ns);
  release_free_memory();
  const MemorySample before = sample_memory();

  runtime::InformerOptions informer_options;
  informer_options.ns = options.ns;
  informer_options.watch.page_size = options.page_size;
  const auto start = std::chrono::steady_clock::now();
  runtime::Informer informer(session.transport(), kube::resources::kConfigMaps,
                             std::move(informer_options));
  informer.start();
  wait_for_sync({&informer}, start + options.sync_deadline);
  const std::chrono::duration<double> sync = std::chrono::steady_clock::now() - start;
  const MemorySample synced = sample_memory();
  release_free_memory();
  const MemorySample trimmed = sample_memory();

  const auto objects = informer.store().list();
  if (options.expect >= 0 && static_cast<long>(objects.size()) != options.expect) {
    throw std::runtime_error("cache holds " + std::to_string(objects.size()) +
                             " objects, expected " + std::to_string(options.expect));
  }
  // What the cached objects weigh as compact JSON text, for the ratio of
  // memory to payload.
  double json_bytes = 0;
  for (const auto& object : objects) json_bytes += static_cast<double>(object->dump().size());
  informer.stop();

  return {{"client", "cd4ml"},
          {"namespace", options.ns},
          {"objects", objects.size()},
          {"page_size", options.page_size},
          {"sync_seconds", sync.count()},
          {"sync_cpu_seconds", synced.cpu_seconds - before.cpu_seconds},
          {"object_json_bytes", json_bytes},
          {"before", memory_json(before)},
          {"synced", memory_json(synced)},
          {"synced_trimmed", memory_json(trimmed)}};
}

}  // namespace cd4ml::bench
