// kubeconfig text (YAML, with base64 and PEM inside): every problem must come
// out as a ConfigError naming it; any other exception escapes and fails.
// Relative file paths resolve under a directory that does not exist; inputs
// naming device or kernel files are skipped (reading /dev/zero or /dev/stdin
// tests the kernel, not the parser).

#include <cstdint>
#include <string_view>

#include "operator/kube/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const std::string_view special : {"/dev", "/proc", "/sys"}) {
    if (text.find(special) != std::string_view::npos) return 0;
  }
  try {
    (void)cd4ml::kube::parse_kubeconfig(text, "/nonexistent/cd4ml-fuzz");
  } catch (const cd4ml::kube::ConfigError&) {
  }
  return 0;
}
