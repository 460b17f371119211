#include "bench/micro/recorded_stream.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "operator/kube/line_splitter.hpp"
#include "operator/kube/watch_event.hpp"
#include "operator/runtime/store.hpp"

namespace cd4ml::bench {

namespace {

RecordedStream load() {
  RecordedStream stream;
  const char* env = std::getenv("CD4ML_RECORDED_STREAM");
  stream.path = env != nullptr && *env != '\0' ? env : CD4ML_RECORDED_STREAM;
  std::ifstream file(stream.path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open recorded stream " + stream.path);
  std::ostringstream content;
  content << file.rdbuf();
  stream.bytes = std::move(content).str();
  if (stream.bytes.empty())
    throw std::runtime_error("recorded stream " + stream.path + " is empty");

  // Counted with the same parser the benchmarks time, once, untimed.
  std::unordered_set<std::string> live;
  kube::LineSplitter splitter;
  splitter.feed(stream.bytes, [&](std::string_view line) {
    ++stream.lines;
    const kube::WatchEvent event = kube::parse_watch_event(line);
    using Type = kube::WatchEvent::Type;
    switch (event.type) {
      case Type::Added:
        ++stream.added;
        live.insert(runtime::object_key(event.object));
        break;
      case Type::Modified:
        ++stream.modified;
        live.insert(runtime::object_key(event.object));
        break;
      case Type::Deleted:
        ++stream.deleted;
        live.erase(runtime::object_key(event.object));
        break;
      case Type::Bookmark: ++stream.bookmarks; break;
      case Type::Error: throw std::runtime_error("recorded stream holds an ERROR event");
    }
  });
  if (splitter.pending() != 0) throw std::runtime_error("recorded stream ends mid-line");
  stream.final_objects = live.size();
  return stream;
}

}  // namespace

const RecordedStream& recorded_stream() {
  static const RecordedStream stream = load();
  return stream;
}

}  // namespace cd4ml::bench
