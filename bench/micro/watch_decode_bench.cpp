// Watch event decode + dispatch throughput, replaying a recorded kube-apiserver
// watch stream (2,000 ConfigMap events of ~1.4 KiB) through the informer's own
// code path: LineSplitter -> parse_watch_event -> InformerCache (Store upsert /
// erase, managedFields dropped) -> handlers. Data arrives in pieces of a fixed
// size, as TLS records and HTTP chunks would cut it.
//
//   build/bin/watch_decode_bench [--benchmark_filter=...]

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string_view>
#include <vector>

#include "bench/micro/recorded_stream.hpp"
#include "operator/kube/line_splitter.hpp"
#include "operator/kube/watch_event.hpp"
#include "operator/runtime/informer_cache.hpp"
#include "operator/runtime/workqueue.hpp"
#include "operator/util/clock.hpp"

namespace cd4ml::bench {
namespace {

using runtime::EventHandlers;
using runtime::InformerCache;
using runtime::ObjectPtr;

// Feeds `bytes` to `splitter` in pieces of `chunk` bytes. The callback is
// converted to a std::function on every call, as the informer's on_data does.
template <typename OnLine>
void feed_in_chunks(kube::LineSplitter& splitter, std::string_view bytes, std::size_t chunk,
                    OnLine&& on_line) {
  for (std::size_t offset = 0; offset < bytes.size(); offset += chunk) {
    splitter.feed(bytes.substr(offset, chunk), [&](std::string_view line) { on_line(line); });
  }
}

void set_throughput(benchmark::State& state, const RecordedStream& stream) {
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(stream.lines));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(stream.bytes.size()));
}

// Line splitting alone.
void BM_SplitLines(benchmark::State& state) {
  const RecordedStream& stream = recorded_stream();
  const auto chunk = static_cast<std::size_t>(state.range(0));
  std::size_t lines = 0;
  for (auto _ : state) {
    kube::LineSplitter splitter;
    lines = 0;
    feed_in_chunks(splitter, stream.bytes, chunk, [&](std::string_view line) {
      benchmark::DoNotOptimize(line.data());
      ++lines;
    });
  }
  if (lines != stream.lines) state.SkipWithError("line count differs from the recording");
  set_throughput(state, stream);
}
BENCHMARK(BM_SplitLines)->ArgName("chunk")->Arg(4096)->Arg(64)->Unit(benchmark::kMicrosecond);

// JSON decoding alone (lines already split).
void BM_ParseWatchEvent(benchmark::State& state) {
  const RecordedStream& stream = recorded_stream();
  std::vector<std::string_view> lines;
  kube::LineSplitter splitter;
  std::vector<std::string> owned;
  splitter.feed(stream.bytes, [&](std::string_view line) { owned.emplace_back(line); });
  for (const auto& line : owned) lines.emplace_back(line);
  for (auto _ : state) {
    for (const auto line : lines) {
      kube::WatchEvent event = kube::parse_watch_event(line);
      benchmark::DoNotOptimize(event.object);
    }
  }
  set_throughput(state, stream);
}
BENCHMARK(BM_ParseWatchEvent)->Unit(benchmark::kMicrosecond);

struct DispatchCounts {
  std::size_t adds = 0;
  std::size_t updates = 0;
  std::size_t deletes = 0;
};

// Handlers that do nothing but count, so the figure is the informer's own cost.
EventHandlers counting_handlers(DispatchCounts& counts) {
  EventHandlers handlers;
  handlers.on_add = [&counts](const ObjectPtr& object) {
    benchmark::DoNotOptimize(object.get());
    ++counts.adds;
  };
  handlers.on_update = [&counts](const ObjectPtr&, const ObjectPtr& object) {
    benchmark::DoNotOptimize(object.get());
    ++counts.updates;
  };
  handlers.on_delete = [&counts](const ObjectPtr& object) {
    benchmark::DoNotOptimize(object.get());
    ++counts.deletes;
  };
  return handlers;
}

// A cache in the state the watch finds it: synced (empty list), handlers set.
std::unique_ptr<InformerCache> synced_cache(EventHandlers handlers) {
  auto cache = std::make_unique<InformerCache>("configmaps", nullptr, nullptr);
  cache->add_handlers(std::move(handlers));
  cache->add_list_page({}, true);
  cache->finish_list();
  return cache;
}

// Replays the whole stream into `cache` the way the informer's on_data does;
// returns false if a line was refused.
bool replay(InformerCache& cache, const RecordedStream& stream, std::size_t chunk) {
  kube::LineSplitter splitter;
  bool ok = true;
  feed_in_chunks(splitter, stream.bytes, chunk, [&](std::string_view line) {
    const auto outcome = cache.apply_line(line);
    if (outcome.error) ok = false;
    benchmark::DoNotOptimize(outcome.resource_version);
  });
  return ok;
}

// The full path with no-op handlers: split, decode, store, dispatch.
void BM_DecodeAndDispatch(benchmark::State& state) {
  const RecordedStream& stream = recorded_stream();
  const auto chunk = static_cast<std::size_t>(state.range(0));
  DispatchCounts counts;
  std::size_t stored = 0;
  bool ok = true;
  for (auto _ : state) {
    state.PauseTiming();
    counts = {};
    auto cache = synced_cache(counting_handlers(counts));
    state.ResumeTiming();
    ok = replay(*cache, stream, chunk) && ok;
    state.PauseTiming();
    stored = cache->store().size();
    cache.reset();  // freeing the store is not part of decoding
    state.ResumeTiming();
  }
  // A re-added key after its deletion would count as an add; the recording has none.
  if (!ok || counts.adds != stream.added || counts.updates != stream.modified ||
      counts.deletes != stream.deleted || stored != stream.final_objects) {
    state.SkipWithError("dispatched events or stored objects differ from the recording");
  }
  set_throughput(state, stream);
}
BENCHMARK(BM_DecodeAndDispatch)
    ->ArgName("chunk")
    ->Arg(4096)
    ->Arg(64)
    ->Unit(benchmark::kMicrosecond);

// As above with a controller's handler: each event enqueues its key on a work
// queue (deduplicated; nobody takes keys off, as when workers are busy).
void BM_DecodeAndEnqueue(benchmark::State& state) {
  const RecordedStream& stream = recorded_stream();
  const auto chunk = static_cast<std::size_t>(state.range(0));
  std::size_t queued = 0;
  bool ok = true;
  for (auto _ : state) {
    state.PauseTiming();
    runtime::WorkQueue::Options options;
    options.name = "bench";
    options.run_delay_thread = false;
    auto queue = std::make_unique<runtime::WorkQueue>(options, util::real_clock());
    auto enqueue = [q = queue.get()](const ObjectPtr& object) {
      q->add(runtime::object_key(*object));
    };
    EventHandlers handlers;
    handlers.on_add = enqueue;
    handlers.on_update = [enqueue](const ObjectPtr&, const ObjectPtr& object) { enqueue(object); };
    handlers.on_delete = enqueue;
    auto cache = synced_cache(std::move(handlers));
    state.ResumeTiming();
    ok = replay(*cache, stream, chunk) && ok;
    state.PauseTiming();
    queued = queue->len();
    cache.reset();
    queue.reset();
    state.ResumeTiming();
  }
  // Every key ever seen is queued once: the live ones plus the deleted ones.
  if (!ok || queued != stream.final_objects + stream.deleted) {
    state.SkipWithError("queued keys differ from the recording");
  }
  set_throughput(state, stream);
}
BENCHMARK(BM_DecodeAndEnqueue)->ArgName("chunk")->Arg(4096)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace cd4ml::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {
    const auto& stream = cd4ml::bench::recorded_stream();
    benchmark::AddCustomContext("recorded_stream", stream.path);
    benchmark::AddCustomContext("stream_bytes", std::to_string(stream.bytes.size()));
    benchmark::AddCustomContext("stream_events",
                                std::to_string(stream.lines) + " (" + std::to_string(stream.added) +
                                    " ADDED, " + std::to_string(stream.modified) + " MODIFIED, " +
                                    std::to_string(stream.deleted) + " DELETED, " +
                                    std::to_string(stream.bookmarks) + " BOOKMARK)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "watch_decode_bench: %s\n", e.what());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
