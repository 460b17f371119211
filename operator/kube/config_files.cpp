#include "operator/kube/config_files.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <memory>
#include <system_error>

#include "operator/kube/config.hpp"

namespace cd4ml::kube::config_files {

namespace {
// Kubeconfigs, certificates and tokens are kilobytes; anything this large is
// a wrong path, not configuration.
constexpr std::size_t kMaxFileBytes = std::size_t{16} * 1024 * 1024;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Reads the file or returns the reason it could not be read.
std::optional<std::string> read_or_reason(const std::filesystem::path& path, std::string& reason) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    reason = "it is a directory";
    return std::nullopt;
  }
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    reason = std::generic_category().message(errno);
    return std::nullopt;
  }
  std::string content;
  char buffer[8192];
  while (true) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    content.append(buffer, n);
    if (content.size() > kMaxFileBytes) {
      // A path pointing at /dev/zero or a huge file by mistake.
      reason = "larger than " + std::to_string(kMaxFileBytes / (std::size_t{1024} * 1024)) + " MiB";
      return std::nullopt;
    }
    if (n < sizeof buffer) {
      if (std::ferror(file.get()) != 0) {
        reason = std::generic_category().message(errno);
        return std::nullopt;
      }
      return content;
    }
  }
}

bool is_base64_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
}  // namespace

std::optional<std::string> try_read(const std::filesystem::path& path) {
  std::string reason;
  return read_or_reason(path, reason);
}

std::string read(const std::filesystem::path& path, std::string_view what) {
  std::string reason;
  auto content = read_or_reason(path, reason);
  if (!content) {
    throw ConfigError("cannot read " + std::string(what) + " " + path.string() + ": " + reason);
  }
  return std::move(*content);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<std::string> decode_base64(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (const char c : text) {
    if (!is_space(c)) clean.push_back(c);
  }
  std::size_t padding = 0;
  while (!clean.empty() && clean.back() == '=' && padding < 2) {
    clean.pop_back();
    ++padding;
  }
  for (const char c : clean) {
    // Also rejects '=' in the middle and a third '=' at the end.
    if (!is_base64_char(static_cast<unsigned char>(c))) return std::nullopt;
  }
  // Four characters carry three bytes; one leftover character carries none.
  if (clean.size() % 4 == 1) return std::nullopt;
  if (padding != 0 && (clean.size() + padding) % 4 != 0) return std::nullopt;
  const std::size_t missing = (4 - clean.size() % 4) % 4;
  clean.append(missing, '=');
  if (clean.empty()) return std::string();
  if (clean.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;

  std::string out(clean.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()),
                                static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes; drop them.
  out.resize(static_cast<std::size_t>(n) - missing);
  return out;
}

bool looks_like_pem(std::string_view text) {
  return text.find("-----BEGIN ") != text.npos;
}

}  // namespace cd4ml::kube::config_files
