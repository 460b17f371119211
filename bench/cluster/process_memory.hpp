#pragma once
// This process's memory as the kernel and the allocator see it.

namespace cd4ml::bench {

struct MemorySample {
  double resident_bytes = 0;     // RSS, /proc/self/statm
  double heap_in_use_bytes = 0;  // glibc: allocated chunks of all arenas + mmapped blocks
  double cpu_seconds = 0;        // user + system, all threads
};

MemorySample sample_memory();

// Returns free heap pages to the kernel (malloc_trim), so RSS shows what is
// live plus fragmentation rather than what glibc keeps for reuse.
void release_free_memory();

}  // namespace cd4ml::bench
