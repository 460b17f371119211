#pragma once
// Splits a watch stream into lines (one JSON event per line). Data arrives in
// arbitrary pieces: an event may be split across pieces, several may be packed
// into one. Incomplete data is buffered until its newline arrives.

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cd4ml::kube {

class LineTooLong : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes = std::size_t{64} * 1024 * 1024)
      : max_line_bytes_(max_line_bytes) {}

  // Calls on_line once per complete line (without "\n" or a trailing "\r"),
  // skipping empty lines. Throws LineTooLong if a line exceeds the limit.
  void feed(std::string_view data, const std::function<void(std::string_view)>& on_line);

  // Bytes of an incomplete line still waiting for its newline.
  std::size_t pending() const { return buffer_.size(); }
  void reset() { buffer_.clear(); }

 private:
  std::size_t max_line_bytes_;
  std::string buffer_;
};

}  // namespace cd4ml::kube
