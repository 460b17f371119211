#pragma once
// The version and commit this binary was built from. They live in one
// generated file (build_info.cpp.in), so a new commit recompiles that file
// only, not everything that talks to the API server.

#include <string_view>

namespace cd4ml::util {
std::string_view version();
std::string_view git_commit();
}  // namespace cd4ml::util
