#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "kube/temp_files.hpp"
#include "operator/kube/config.hpp"
#include "operator/util/clock.hpp"

namespace cd4ml::kube {
namespace {

using std::chrono::seconds;
using testing::TempDir;

const std::filesystem::file_time_type kT0 =
    std::filesystem::file_time_type::clock::now() - std::chrono::hours(1);

// Rewrites the file and sets its mtime explicitly, so tests do not depend on
// the file system's timestamp resolution or on sleeping.
void rewrite(const TempDir& dir, const std::filesystem::path& name, std::string_view content,
             std::filesystem::file_time_type mtime) {
  const auto file = dir.write(name, content);
  std::filesystem::last_write_time(file, mtime);
}

TEST(StaticToken, ReturnsTheToken) {
  EXPECT_EQ(static_token("abc")->token(), "abc");
}

TEST(FileToken, ReadsTheFileAndTrimsTheTrailingNewline) {
  TempDir dir;
  rewrite(dir, "token", "eyJhbGciOi.payload.sig\n", kT0);
  util::ManualClock clock;
  EXPECT_EQ(file_token(dir.path() / "token", clock)->token(), "eyJhbGciOi.payload.sig");
}

TEST(FileToken, RotatedFileIsPickedUpOnTheNextCall) {
  TempDir dir;
  util::ManualClock clock;
  rewrite(dir, "token", "first-token\n", kT0);
  const auto source = file_token(dir.path() / "token", clock);
  EXPECT_EQ(source->token(), "first-token");

  // Same length, new mtime: as the kubelet's rotation looks.
  rewrite(dir, "token", "other-token\n", kT0 + seconds(10));
  EXPECT_EQ(source->token(), "other-token");

  // New length with the mtime unchanged (coarse timestamps): size tells.
  rewrite(dir, "token", "a-much-longer-third-token\n", kT0 + seconds(10));
  EXPECT_EQ(source->token(), "a-much-longer-third-token");
}

TEST(FileToken, UnchangedLookingFileIsReReadOncePerMinute) {
  TempDir dir;
  util::ManualClock clock;
  rewrite(dir, "token", "aaaa", kT0);
  const auto source = file_token(dir.path() / "token", clock);
  EXPECT_EQ(source->token(), "aaaa");

  // Content changed but mtime and size look the same: the cached token is
  // served until a minute has passed since the last read.
  rewrite(dir, "token", "bbbb", kT0);
  EXPECT_EQ(source->token(), "aaaa");
  clock.advance(seconds(59));
  EXPECT_EQ(source->token(), "aaaa");
  clock.advance(seconds(1));
  EXPECT_EQ(source->token(), "bbbb");
}

TEST(FileToken, FailedReReadKeepsTheLastGoodToken) {
  TempDir dir;
  util::ManualClock clock;
  rewrite(dir, "token", "good", kT0);
  const auto source = file_token(dir.path() / "token", clock);
  EXPECT_EQ(source->token(), "good");

  // Caught mid-rotation: empty file, then no file at all.
  rewrite(dir, "token", "\n", kT0 + seconds(1));
  EXPECT_EQ(source->token(), "good");
  std::filesystem::remove(dir.path() / "token");
  clock.advance(seconds(120));
  EXPECT_EQ(source->token(), "good");

  // The new token appears: picked up at once, without waiting for the minute.
  rewrite(dir, "token", "new", kT0 + seconds(2));
  EXPECT_EQ(source->token(), "new");
}

TEST(FileToken, NeverReadableGivesEmptyUntilTheFileAppears) {
  TempDir dir;
  util::ManualClock clock;
  const auto source = file_token(dir.path() / "token", clock);
  EXPECT_EQ(source->token(), "");
  rewrite(dir, "token", "late", kT0);
  EXPECT_EQ(source->token(), "late");
}

TEST(FileToken, ConcurrentReadersSeeOnlyWholeTokensInOrder) {
  TempDir dir;
  util::ManualClock clock;
  rewrite(dir, "token", "token-0000", kT0);
  const auto source = file_token(dir.path() / "token", clock);
  constexpr int kRotations = 200;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};

  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      int last = 0;
      while (!done.load()) {
        const std::string token = source->token();
        // Whole tokens only ("token-NNNN"), never going backwards.
        if (token.size() != 10 || token.rfind("token-", 0) != 0) {
          ++bad;
          continue;
        }
        const int n = std::stoi(token.substr(6));
        if (n < last) ++bad;
        last = n;
      }
    });
  }
  for (int i = 1; i <= kRotations; ++i) {
    // Atomic replacement, as the kubelet's symlink swap.
    char name[16];
    std::snprintf(name, sizeof name, "token-%04d", i);
    rewrite(dir, "token.tmp", name, kT0 + seconds(i));
    std::filesystem::rename(dir.path() / "token.tmp", dir.path() / "token");
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(source->token(), "token-0200");
}

}  // namespace
}  // namespace cd4ml::kube
