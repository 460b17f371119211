#pragma once
// Small file and text helpers shared by the configuration loaders
// (kubeconfig, in-cluster, token files) and the readers of credentials kept
// in Secrets (base64, trimming, PEM).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace cd4ml::kube::config_files {

// The whole file, or nullopt when it cannot be opened or read.
std::optional<std::string> try_read(const std::filesystem::path& path);

// The whole file; throws ConfigError "cannot read <what> <path>: <reason>".
std::string read(const std::filesystem::path& path, std::string_view what);

// `text` without leading and trailing whitespace.
std::string_view trim(std::string_view text);

// Decodes standard base64 (RFC 4648, with or without '=' padding; whitespace
// and line breaks ignored). nullopt when the text is not valid base64.
std::optional<std::string> decode_base64(std::string_view text);

// True when the text holds at least one PEM block ("-----BEGIN ...").
bool looks_like_pem(std::string_view text);

}  // namespace cd4ml::kube::config_files
