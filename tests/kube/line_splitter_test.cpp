#include "operator/kube/line_splitter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cd4ml::kube {
namespace {

std::vector<std::string> feed_all(LineSplitter& splitter, const std::vector<std::string>& chunks) {
  std::vector<std::string> lines;
  for (const auto& chunk : chunks) {
    splitter.feed(chunk, [&](std::string_view line) { lines.emplace_back(line); });
  }
  return lines;
}

const std::string kStream =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\n";

const std::vector<std::string> kLines = {
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}",
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}",
};

TEST(LineSplitter, SeveralEventsPackedInOneChunk) {
  LineSplitter splitter;
  EXPECT_EQ(feed_all(splitter, {kStream}), kLines);
  EXPECT_EQ(splitter.pending(), 0u);
}

TEST(LineSplitter, EventsSplitAtEveryBytePosition) {
  for (std::size_t cut = 0; cut <= kStream.size(); ++cut) {
    LineSplitter splitter;
    EXPECT_EQ(feed_all(splitter, {kStream.substr(0, cut), kStream.substr(cut)}), kLines)
        << "cut at " << cut;
    EXPECT_EQ(splitter.pending(), 0u);
  }
}

TEST(LineSplitter, EventsSplitIntoThreePiecesAtEveryPairOfPositions) {
  for (std::size_t a = 0; a <= kStream.size(); ++a) {
    for (std::size_t b = a; b <= kStream.size(); b += 7) {
      LineSplitter splitter;
      EXPECT_EQ(
          feed_all(splitter, {kStream.substr(0, a), kStream.substr(a, b - a), kStream.substr(b)}),
          kLines)
          << "cuts at " << a << ", " << b;
    }
  }
}

TEST(LineSplitter, OneByteAtATime) {
  LineSplitter splitter;
  std::vector<std::string> chunks;
  for (const char c : kStream) chunks.emplace_back(1, c);
  EXPECT_EQ(feed_all(splitter, chunks), kLines);
}

TEST(LineSplitter, IncompleteLineWaitsForItsNewline) {
  LineSplitter splitter;
  EXPECT_TRUE(feed_all(splitter, {"{\"type\":\"ADD"}).empty());
  EXPECT_EQ(splitter.pending(), 12u);
  EXPECT_EQ(feed_all(splitter, {"ED\"}\n"}), std::vector<std::string>{"{\"type\":\"ADDED\"}"});
  EXPECT_EQ(splitter.pending(), 0u);
}

TEST(LineSplitter, CrLfAndEmptyLines) {
  LineSplitter splitter;
  EXPECT_EQ(feed_all(splitter, {"\n\r\none\r\n\n", "two\r", "\n\r\n"}),
            (std::vector<std::string>{"one", "two"}));
}

TEST(LineSplitter, ResetDropsThePartialLine) {
  LineSplitter splitter;
  feed_all(splitter, {"partial"});
  splitter.reset();
  EXPECT_EQ(feed_all(splitter, {"whole\n"}), std::vector<std::string>{"whole"});
}

TEST(LineSplitter, LineOverTheLimitThrowsWithoutBufferingIt) {
  LineSplitter splitter(16);
  // Exactly at the limit is fine.
  EXPECT_EQ(feed_all(splitter, {std::string(16, 'x') + "\n"}),
            std::vector<std::string>{std::string(16, 'x')});
  // Over the limit within one chunk.
  EXPECT_THROW(feed_all(splitter, {std::string(17, 'y') + "\n"}), LineTooLong);
  EXPECT_EQ(splitter.pending(), 0u);
  // Over the limit across chunks, with no newline in sight: detected as soon
  // as the buffered bytes pass the limit.
  EXPECT_TRUE(feed_all(splitter, {std::string(10, 'z')}).empty());
  EXPECT_THROW(feed_all(splitter, {std::string(7, 'z')}), LineTooLong);
  EXPECT_EQ(splitter.pending(), 0u);
}

TEST(LineSplitter, ACallbackThatThrowsLeavesTheSplitterUsable) {
  LineSplitter splitter;
  splitter.feed("par", [](std::string_view) {});
  EXPECT_THROW(splitter.feed("tial\nnext", [](std::string_view) { throw std::runtime_error("x"); }),
               std::runtime_error);
  splitter.reset();
  EXPECT_EQ(feed_all(splitter, {"fresh\n"}), std::vector<std::string>{"fresh"});
}

}  // namespace
}  // namespace cd4ml::kube
