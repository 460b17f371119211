// Micro-benchmarks of the informer's store and the controller's work queue:
// the per-object costs behind the watch and reconcile paths.
//
//   build/bin/runtime_micro_bench [--benchmark_filter=...]

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/micro/recorded_stream.hpp"
#include "operator/kube/line_splitter.hpp"
#include "operator/kube/watch_event.hpp"
#include "operator/runtime/informer_cache.hpp"
#include "operator/runtime/store.hpp"
#include "operator/runtime/workqueue.hpp"
#include "operator/util/clock.hpp"

namespace cd4ml::bench {
namespace {

using runtime::ObjectPtr;
using runtime::Store;

// The ConfigMaps of the recording's ADDED events (managedFields dropped, as the
// informer stores them), one per distinct key.
const std::vector<ObjectPtr>& recorded_objects() {
  static const std::vector<ObjectPtr> objects = [] {
    std::vector<ObjectPtr> out;
    kube::LineSplitter splitter;
    splitter.feed(recorded_stream().bytes, [&](std::string_view line) {
      auto event = kube::parse_watch_event(line);
      if (event.type != kube::WatchEvent::Type::Added) return;
      runtime::drop_managed_fields(event.object);
      out.push_back(std::make_shared<const runtime::Json>(std::move(event.object)));
    });
    return out;
  }();
  return objects;
}

std::unique_ptr<Store> filled_store() {
  auto store = std::make_unique<Store>();
  for (const auto& object : recorded_objects()) store->upsert(object);
  return store;
}

// Inserting objects into an empty store (key, three indexes).
void BM_StoreUpsertNew(benchmark::State& state) {
  const auto& objects = recorded_objects();
  for (auto _ : state) {
    state.PauseTiming();
    auto store = std::make_unique<Store>();
    state.ResumeTiming();
    for (const auto& object : objects) store->upsert(object);
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(objects.size()));
}
BENCHMARK(BM_StoreUpsertNew)->Unit(benchmark::kMicrosecond);

// Replacing objects already stored (what MODIFIED does): unindex + reindex.
void BM_StoreUpsertExisting(benchmark::State& state) {
  const auto& objects = recorded_objects();
  auto store = filled_store();
  for (auto _ : state) {
    for (const auto& object : objects) benchmark::DoNotOptimize(store->upsert(object));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(objects.size()));
}
BENCHMARK(BM_StoreUpsertExisting)->Unit(benchmark::kMicrosecond);

// A reconciler's cache read by namespace/name.
void BM_StoreGet(benchmark::State& state) {
  const auto& objects = recorded_objects();
  auto store = filled_store();
  std::vector<std::string> keys;
  for (const auto& object : objects) keys.push_back(runtime::object_key(*object));
  for (auto _ : state) {
    for (const auto& key : keys) benchmark::DoNotOptimize(store->get(key));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(keys.size()));
}
BENCHMARK(BM_StoreGet)->Unit(benchmark::kMicrosecond);

// A label lookup that matches a tenth of the store (label shard=N).
void BM_StoreByLabel(benchmark::State& state) {
  auto store = filled_store();
  std::size_t found = 0;
  for (auto _ : state) {
    const auto matches = store->by_label("shard", "3");
    found = matches.size();
    benchmark::DoNotOptimize(matches.data());
  }
  if (found == 0) state.SkipWithError("no object with label shard=3");
  state.counters["matches"] = static_cast<double>(found);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreByLabel)->Unit(benchmark::kMicrosecond);

// Heap bytes allocated (glibc, all arenas), for the footprint counters.
double heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<double>(info.uordblks + info.hblkhd);
}

// Where a cached object's memory goes: the parsed JSON tree (as the informer
// keeps it, managedFields dropped) and the Store's key map and indexes. Time
// is secondary here; the counters are the figures.
void BM_CachedObjectFootprint(benchmark::State& state) {
  std::vector<std::string> lines;
  kube::LineSplitter splitter;
  splitter.feed(recorded_stream().bytes, [&](std::string_view line) {
    if (kube::parse_watch_event(line).type == kube::WatchEvent::Type::Added)
      lines.emplace_back(line);
  });
  double text = 0;
  double tree = 0;
  double store = 0;
  for (auto _ : state) {
    std::vector<ObjectPtr> objects;
    objects.reserve(lines.size());
    const double start = heap_in_use();
    for (const auto& line : lines) {
      auto event = kube::parse_watch_event(line);
      runtime::drop_managed_fields(event.object);
      objects.push_back(std::make_shared<const runtime::Json>(std::move(event.object)));
    }
    const double parsed = heap_in_use();
    Store cache;
    for (const auto& object : objects) cache.upsert(object);
    const double stored = heap_in_use();
    state.PauseTiming();
    text = 0;
    for (const auto& object : objects) text += static_cast<double>(object->dump().size());
    state.ResumeTiming();
    const auto n = static_cast<double>(objects.size());
    tree = (parsed - start) / n;
    store = (stored - parsed) / n;
  }
  if (tree <= 0) {
    state.SkipWithError("no heap accounting (mallinfo2 is glibc's; sanitizer builds replace it)");
  }
  const auto n = static_cast<double>(lines.size());
  state.counters["json_text_bytes"] = text / n;
  state.counters["json_tree_bytes"] = tree;
  state.counters["store_index_bytes"] = store;
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(lines.size()));
}
BENCHMARK(BM_CachedObjectFootprint)->Unit(benchmark::kMillisecond);

runtime::WorkQueue::Options queue_options() {
  runtime::WorkQueue::Options options;
  options.name = "bench";
  options.run_delay_thread = false;
  return options;
}

// One key's trip through the queue on one thread: add, get, done, forget.
void BM_WorkQueueCycle(benchmark::State& state) {
  runtime::WorkQueue queue(queue_options(), util::real_clock());
  const std::string key = "bench/cm-00001";
  for (auto _ : state) {
    queue.add(key);
    auto taken = queue.try_get();
    queue.done(*taken);
    queue.forget(*taken);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WorkQueueCycle);

// Adding a key that is already queued (a burst of events for one object).
void BM_WorkQueueAddDuplicate(benchmark::State& state) {
  runtime::WorkQueue queue(queue_options(), util::real_clock());
  const std::string key = "bench/cm-00001";
  queue.add(key);
  for (auto _ : state) queue.add(key);
  if (queue.len() != 1) state.SkipWithError("duplicate adds grew the queue");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WorkQueueAddDuplicate);

}  // namespace
}  // namespace cd4ml::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {
    benchmark::AddCustomContext("objects", std::to_string(cd4ml::bench::recorded_objects().size()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runtime_micro_bench: %s\n", e.what());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
