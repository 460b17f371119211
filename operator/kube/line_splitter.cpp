#include "operator/kube/line_splitter.hpp"

#include <string>

namespace cd4ml::kube {

namespace {
void emit(std::string_view line, const std::function<void(std::string_view)>& on_line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (!line.empty()) {
    on_line(line);
  }
}
}  // namespace

void LineSplitter::feed(std::string_view data,
                        const std::function<void(std::string_view)>& on_line) {
  while (!data.empty()) {
    const std::size_t newline = data.find('\n');
    if (newline == std::string_view::npos) {
      // Check before buffering, so a stream without newlines cannot grow the
      // buffer past the limit.
      if (buffer_.size() + data.size() > max_line_bytes_) {
        const std::size_t seen = buffer_.size() + data.size();
        buffer_.clear();
        throw LineTooLong("watch stream line exceeds " + std::to_string(max_line_bytes_) +
                          " bytes (" + std::to_string(seen) + " bytes without a newline)");
      }
      buffer_.append(data);
      return;
    }
    const std::string_view piece = data.substr(0, newline);
    data.remove_prefix(newline + 1);
    if (buffer_.size() + piece.size() > max_line_bytes_) {
      const std::size_t seen = buffer_.size() + piece.size();
      buffer_.clear();
      throw LineTooLong("watch stream line exceeds " + std::to_string(max_line_bytes_) +
                        " bytes (" + std::to_string(seen) + " bytes)");
    }
    if (buffer_.empty()) {
      // Common case: the whole line is in this piece; no copy.
      emit(piece, on_line);
    } else {
      // Take the buffer out first so the splitter is consistent even if the
      // callback throws.
      std::string line = std::move(buffer_);
      buffer_.clear();
      line.append(piece);
      emit(line, on_line);
    }
  }
}

}  // namespace cd4ml::kube
