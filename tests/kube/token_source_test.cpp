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

TEST(StaticToken, ReturnsTheToken) {
  EXPECT_EQ(static_token("abc")->token({}), "abc");
}

// A fresh directory and the source of its file "token", on a manual clock.
// The source reads nothing before its first token() call, so each test writes
// the file when it needs it.
class FileToken : public ::testing::Test {
 protected:
  // Rewrites a file of the directory and sets its mtime explicitly, so tests
  // do not depend on the file system's timestamp resolution or on sleeping.
  void rewrite(const std::filesystem::path& name, std::string_view content,
               std::filesystem::file_time_type mtime) {
    const auto file = dir_.write(name, content);
    std::filesystem::last_write_time(file, mtime);
  }

  TempDir dir_;
  util::ManualClock clock_;
  const std::filesystem::path token_file_ = dir_.path() / "token";
  const std::shared_ptr<TokenSource> source_ = file_token(token_file_);
};

TEST_F(FileToken, ReadsTheFileAndTrimsTheTrailingNewline) {
  rewrite("token", "eyJhbGciOi.payload.sig\n", kT0);
  EXPECT_EQ(source_->token(clock_.now()), "eyJhbGciOi.payload.sig");
}

TEST_F(FileToken, RotatedFileIsPickedUpOnTheNextCall) {
  rewrite("token", "first-token\n", kT0);
  EXPECT_EQ(source_->token(clock_.now()), "first-token");

  // Same length, new mtime: as the kubelet's rotation looks.
  rewrite("token", "other-token\n", kT0 + seconds(10));
  EXPECT_EQ(source_->token(clock_.now()), "other-token");

  // New length with the mtime unchanged (coarse timestamps): size tells.
  rewrite("token", "a-much-longer-third-token\n", kT0 + seconds(10));
  EXPECT_EQ(source_->token(clock_.now()), "a-much-longer-third-token");
}

TEST_F(FileToken, UnchangedLookingFileIsReReadOncePerMinute) {
  rewrite("token", "aaaa", kT0);
  EXPECT_EQ(source_->token(clock_.now()), "aaaa");

  // Content changed but mtime and size look the same: the cached token is
  // served until a minute has passed since the last read.
  rewrite("token", "bbbb", kT0);
  EXPECT_EQ(source_->token(clock_.now()), "aaaa");
  clock_.advance(seconds(59));
  EXPECT_EQ(source_->token(clock_.now()), "aaaa");
  clock_.advance(seconds(1));
  EXPECT_EQ(source_->token(clock_.now()), "bbbb");
}

TEST_F(FileToken, FailedReReadKeepsTheLastGoodToken) {
  rewrite("token", "good", kT0);
  EXPECT_EQ(source_->token(clock_.now()), "good");

  // Caught mid-rotation: empty file, then no file at all.
  rewrite("token", "\n", kT0 + seconds(1));
  EXPECT_EQ(source_->token(clock_.now()), "good");
  std::filesystem::remove(token_file_);
  clock_.advance(seconds(120));
  EXPECT_EQ(source_->token(clock_.now()), "good");

  // The new token appears: picked up at once, without waiting for the minute.
  rewrite("token", "new", kT0 + seconds(2));
  EXPECT_EQ(source_->token(clock_.now()), "new");
}

TEST_F(FileToken, NeverReadableGivesEmptyUntilTheFileAppears) {
  EXPECT_EQ(source_->token(clock_.now()), "");
  rewrite("token", "late", kT0);
  EXPECT_EQ(source_->token(clock_.now()), "late");
}

TEST_F(FileToken, ConcurrentReadersSeeOnlyWholeTokensInOrder) {
  rewrite("token", "token-0000", kT0);
  constexpr int kRotations = 200;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};

  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      int last = 0;
      while (!done.load()) {
        const std::string token = source_->token(clock_.now());
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
    rewrite("token.tmp", name, kT0 + seconds(i));
    std::filesystem::rename(dir_.path() / "token.tmp", token_file_);
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(source_->token(clock_.now()), "token-0200");
}

}  // namespace
}  // namespace cd4ml::kube
