// A watch response as the transport reads it, without a socket: the HTTP
// response (headers, chunked or sized body) parsed by Beast piece by piece at
// boundaries the input chooses, each piece of body into the line splitter,
// each line decoded as a watch event; an error status's body decoded as a
// metav1.Status. The property: the events are the same whatever the
// boundaries (the whole body split in one piece gives the same lines).
//
// Input: byte 0 = a seed for the piece sizes, the rest = the response.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "operator/kube/errors.hpp"
#include "operator/kube/line_splitter.hpp"
#include "operator/kube/watch_event.hpp"

namespace http = boost::beast::http;

namespace {

constexpr std::size_t kMaxLine = 4096;

// Lines of `body` as the watch reader sees them, fed in the given pieces.
std::vector<std::string> lines_of(std::string_view body, const std::vector<std::size_t>& cuts) {
  std::vector<std::string> lines;
  cd4ml::kube::LineSplitter splitter(kMaxLine);
  std::size_t at = 0;
  try {
    for (std::size_t cut : cuts) {
      cut = std::min(cut, body.size());
      if (cut < at) continue;
      splitter.feed(body.substr(at, cut - at), [&](std::string_view l) { lines.emplace_back(l); });
      at = cut;
    }
    splitter.feed(body.substr(at), [&](std::string_view l) { lines.emplace_back(l); });
  } catch (const cd4ml::kube::LineTooLong&) {
    lines.emplace_back("<too long>");
  }
  return lines;
}

void decode(const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    try {
      const auto event = cd4ml::kube::parse_watch_event(line);
      (void)event.resource_version();
      if (event.type == cd4ml::kube::WatchEvent::Type::Error) {
        (void)cd4ml::kube::watch_error(event).user_message();
      }
    } catch (const std::invalid_argument&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  unsigned seed = data[0];
  const std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);

  // The response through Beast's parser as read_some would drive it: bytes
  // arrive 1 to 16 at a time into a buffer the parser consumes from.
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(1 << 20);
  std::string body;
  std::vector<std::size_t> cuts;  // where the parser's body pieces ended
  std::string pending;
  char piece[64];
  std::size_t at = 0;
  while (!parser.is_done()) {
    if (at < wire.size()) {
      seed = seed * 1103515245u + 12345u;
      const std::size_t n = std::min<std::size_t>(1 + (seed >> 16) % 16, wire.size() - at);
      pending.append(wire.substr(at, n));
      at += n;
    }
    parser.get().body().data = piece;
    parser.get().body().size = sizeof piece;
    boost::beast::error_code ec;
    const std::size_t used = parser.put(boost::asio::buffer(pending), ec);
    body.append(piece, sizeof piece - parser.get().body().size);
    pending.erase(0, used);
    if (parser.is_header_done()) cuts.push_back(body.size());
    if (ec == http::error::need_buffer) ec = {};
    if (ec && ec != http::error::need_more) return 0;  // malformed: the transport gives up
    if (used == 0 && at >= wire.size()) break;         // the connection ended mid-response
  }
  if (!parser.is_header_done()) return 0;
  const int status = static_cast<int>(parser.get().result_int());
  if (status != 200) {
    (void)cd4ml::kube::error_from_response(status, body).user_message();
    return 0;
  }
  const auto pieces = lines_of(body, cuts);
  if (pieces != lines_of(body, {})) std::abort();  // the boundaries changed the lines
  decode(pieces);
  return 0;
}
