// Bearer token sources: a fixed token from a kubeconfig, or a file that is
// re-read when it changes (projected service-account tokens are rotated by
// the kubelet, which swaps the file underneath us).

#include <mutex>

#include "operator/kube/config.hpp"
#include "operator/kube/config_files.hpp"

namespace cd4ml::kube {

namespace {

class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(std::string token) : token_(std::move(token)) {}
  std::string token(std::chrono::steady_clock::time_point /*now*/) override { return token_; }

 private:
  const std::string token_;
};

class FileTokenSource final : public TokenSource {
 public:
  explicit FileTokenSource(std::filesystem::path path) : path_(std::move(path)) {}

  std::string token(std::chrono::steady_clock::time_point now) override {
    std::lock_guard lock(mutex_);
    std::error_code mtime_error;
    std::error_code size_error;
    const auto mtime = std::filesystem::last_write_time(path_, mtime_error);
    const auto size = std::filesystem::file_size(path_, size_error);
    if (mtime_error || size_error) {
      return token_;  // gone for now (mid-rotation?); keep the last good token
    }
    const bool fresh =
        have_token_ && mtime == mtime_ && size == size_ && now - read_at_ < kRereadInterval;
    if (fresh) {
      return token_;
    }
    const auto content = config_files::try_read(path_);
    if (!content) {
      return token_;
    }
    const std::string_view trimmed = config_files::trim(*content);
    if (trimmed.empty()) {
      // A file caught while being rewritten; the next call looks again.
      return token_;
    }
    token_.assign(trimmed);
    have_token_ = true;
    mtime_ = mtime;
    size_ = size;
    read_at_ = now;
    return token_;
  }

 private:
  // client-go's cachingTokenSource period for file tokens.
  static constexpr std::chrono::minutes kRereadInterval{1};

  const std::filesystem::path path_;
  std::mutex mutex_;
  std::string token_;
  bool have_token_ = false;
  std::filesystem::file_time_type mtime_{};
  std::uintmax_t size_ = 0;
  std::chrono::steady_clock::time_point read_at_{};
};

}  // namespace

std::shared_ptr<TokenSource> static_token(std::string token) {
  return std::make_shared<StaticTokenSource>(std::move(token));
}

std::shared_ptr<TokenSource> file_token(std::filesystem::path path) {
  return std::make_shared<FileTokenSource>(std::move(path));
}

}  // namespace cd4ml::kube
