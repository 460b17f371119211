#include "bench/cluster/process_memory.hpp"

#include <malloc.h>

#include "operator/runtime/metrics.hpp"

namespace cd4ml::bench {

MemorySample sample_memory() {
  const runtime::ProcessStats stats = runtime::read_process_stats();
  const struct mallinfo2 heap = mallinfo2();
  MemorySample sample;
  sample.resident_bytes = stats.resident_bytes;
  sample.heap_in_use_bytes = static_cast<double>(heap.uordblks + heap.hblkhd);
  sample.cpu_seconds = stats.cpu_seconds;
  return sample;
}

void release_free_memory() {
  malloc_trim(0);
}

}  // namespace cd4ml::bench
