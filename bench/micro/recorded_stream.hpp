#pragma once
// The recorded ConfigMap watch stream (bench/data/configmap-watch.jsonl.gz,
// made by bench/record-watch-stream.sh), decompressed at build time, loaded
// once and counted, so benchmarks can check they replayed every event.

#include <cstddef>
#include <string>

namespace cd4ml::bench {

struct RecordedStream {
  std::string path;
  std::string bytes;  // the stream exactly as the server sent it
  std::size_t lines = 0;
  std::size_t added = 0;
  std::size_t modified = 0;
  std::size_t deleted = 0;
  std::size_t bookmarks = 0;
  // Objects left in a cache that applied the whole stream to an empty store.
  std::size_t final_objects = 0;
};

// $CD4ML_RECORDED_STREAM, or the copy the build decompressed. Loaded on first
// use; throws std::runtime_error if the file is missing or empty.
const RecordedStream& recorded_stream();

}  // namespace cd4ml::bench
