// The Dockerfile without a container engine (none runs on the test machines):
// the runtime stage installs exactly the Debian packages that own the shared
// libraries `ldd` finds in the operator binary, runs it as a non-root user, and
// the build stage uses the project's own package list (.ci/install-deps).
// docs/container-image.md says how to build the image where an engine runs.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "cluster.hpp"
#include "helm.hpp"

namespace cd4ml::e2e {
namespace {

struct Instruction {
  std::string keyword;  // upper case: FROM, RUN, COPY, USER, ...
  std::string rest;
};

struct Stage {
  std::string image;
  std::string name;
  std::vector<Instruction> instructions;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Instructions with their continuation lines joined and comments dropped,
// grouped by stage.
std::vector<Stage> parse_dockerfile(const std::string& text) {
  std::vector<Stage> stages;
  std::istringstream in(text);
  std::string logical;
  auto flush = [&] {
    const std::string line = trim(logical);
    logical.clear();
    if (line.empty()) return;
    const auto space = line.find(' ');
    std::string keyword = line.substr(0, space);
    for (auto& ch : keyword) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const std::string rest = space == std::string::npos ? "" : trim(line.substr(space));
    if (keyword == "FROM") {
      const auto w = words(rest);
      Stage stage;
      stage.image = w.at(0);
      if (w.size() == 3) stage.name = w[2];
      stages.push_back(stage);
    } else if (stages.empty()) {
      ADD_FAILURE() << "instruction before the first FROM: " << line;
    } else {
      stages.back().instructions.push_back({keyword, rest});
    }
  };
  for (std::string line; std::getline(in, line);) {
    if (trim(line).rfind('#', 0) == 0) continue;  // comments, also inside continuations
    if (!line.empty() && line.back() == '\\') {
      logical += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    logical += line;
    flush();
  }
  flush();
  return stages;
}

// Packages named by every `apt-get install` of a stage.
std::set<std::string> apt_installed(const Stage& stage) {
  std::set<std::string> out;
  for (const auto& i : stage.instructions) {
    if (i.keyword != "RUN") continue;
    const auto w = words(i.rest);
    for (std::size_t k = 0; k + 1 < w.size(); ++k) {
      if (w[k] != "apt-get" || w[k + 1] != "install") continue;
      for (std::size_t j = k + 2; j < w.size() && w[j] != "&&" && w[j] != ";"; ++j) {
        if (w[j][0] != '-') out.insert(w[j]);
      }
    }
  }
  return out;
}

std::set<std::string> install_deps_packages() {
  const std::string script = read_text(source_dir() / ".ci" / "install-deps");
  const auto begin = script.find("packages=(");
  const auto end = script.find(')', begin);
  EXPECT_NE(begin, std::string::npos);
  std::set<std::string> out;
  for (const auto& w : words(script.substr(begin + 10, end - begin - 10))) out.insert(w);
  return out;
}

// The Debian package that owns a file, trying the merged-/usr twin path too
// (ldd says /lib/..., dpkg may have registered /usr/lib/..., or the reverse).
std::string owning_package(const std::string& path) {
  std::vector<std::string> candidates = {path};
  std::error_code ec;
  const auto canonical = std::filesystem::canonical(path, ec).string();
  if (!ec) candidates.push_back(canonical);
  for (const auto& p : std::vector<std::string>(candidates)) {
    if (p.rfind("/usr/", 0) == 0) {
      candidates.push_back(p.substr(4));
    } else {
      candidates.push_back("/usr" + p);
    }
  }
  for (const auto& p : candidates) {
    const CommandResult r = run_command({"dpkg", "-S", p});
    if (r.exit_code != 0) continue;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("diversion", 0) == 0) continue;
      const std::string package = line.substr(0, line.find_first_of(":,"));
      if (!package.empty()) return package;
    }
  }
  return "";
}

// Shared libraries (and the dynamic loader) the operator binary loads.
std::vector<std::string> linked_libraries() {
  const CommandResult r = run_command({"ldd", CD4ML_OPERATOR_BINARY});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> out;
  std::istringstream lines(r.out);
  static const std::regex kResolved(R"(=>\s*(/\S+))");
  static const std::regex kLoader(R"(^\s*(/\S+)\s+\()");
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(line.find("not found"), std::string::npos) << line;
    std::smatch m;
    if (std::regex_search(line, m, kResolved) || std::regex_search(line, m, kLoader)) {
      out.push_back(m[1]);
    }
  }
  return out;
}

class DockerfileTest : public testing::Test {
 protected:
  void SetUp() override {
    stages_ = parse_dockerfile(read_text(source_dir() / "Dockerfile"));
    ASSERT_EQ(stages_.size(), 2u) << "a build stage and a runtime stage";
  }
  const Stage& build() const { return stages_.front(); }
  const Stage& runtime() const { return stages_.back(); }
  std::vector<Stage> stages_;
};

TEST_F(DockerfileTest, RuntimeStageInstallsExactlyThePackagesOfTheLinkedLibraries) {
  const auto libraries = linked_libraries();
  ASSERT_GE(libraries.size(), 5u) << "libssl, libyaml-cpp, spdlog, fmt, prometheus-cpp at least";
  std::map<std::string, std::vector<std::string>> needed;  // package -> libraries
  for (const auto& lib : libraries) {
    const std::string package = owning_package(lib);
    ASSERT_FALSE(package.empty()) << "no Debian package owns " << lib;
    needed[package].push_back(lib);
  }
  const auto installed = apt_installed(runtime());
  for (const auto& [package, libs] : needed) {
    EXPECT_TRUE(installed.count(package))
        << package << " (provides " << libs.front() << ") is missing from the runtime stage";
  }
  for (const auto& package : installed) {
    EXPECT_TRUE(needed.count(package))
        << package << " is installed in the runtime stage but provides no library the binary links";
  }
}

TEST_F(DockerfileTest, RuntimeStageHoldsOnlyTheBinaryAndRunsItAsNonRoot) {
  std::vector<Instruction> copies, users, entrypoints;
  for (const auto& i : runtime().instructions) {
    if (i.keyword == "COPY" || i.keyword == "ADD") copies.push_back(i);
    if (i.keyword == "USER") users.push_back(i);
    if (i.keyword == "ENTRYPOINT") entrypoints.push_back(i);
  }
  ASSERT_EQ(copies.size(), 1u) << "only the binary enters the runtime image";
  const auto copy = words(copies[0].rest);
  ASSERT_EQ(copy.size(), 3u) << copies[0].rest;
  EXPECT_EQ(copy[0], "--from=" + build().name);
  EXPECT_EQ(std::filesystem::path(copy[1]).filename(), "cd4ml-operator");
  const std::string destination = copy[2];

  ASSERT_FALSE(users.empty()) << "the runtime stage must set USER";
  const std::string user = users.back().rest;  // the last USER is the one that runs
  std::smatch m;
  ASSERT_TRUE(std::regex_match(user, m, std::regex(R"(([0-9]+)(:([0-9]+))?)")))
      << "numeric uid[:gid], so runAsNonRoot can verify it: " << user;
  EXPECT_NE(std::stoi(m[1]), 0) << "uid 0 is root";
  if (m[3].matched) {
    EXPECT_NE(std::stoi(m[3]), 0) << "gid 0 is root's group";
  }
  EXPECT_EQ(std::stoi(m[1]), 65532) << "the chart's runAsUser";

  ASSERT_EQ(entrypoints.size(), 1u);
  const Json entrypoint = Json::parse(entrypoints[0].rest);  // exec form: a JSON array
  ASSERT_TRUE(entrypoint.is_array());
  EXPECT_EQ(entrypoint[0], destination);
}

TEST_F(DockerfileTest, BuildStageInstallsTheProjectsPackageList) {
  EXPECT_EQ(apt_installed(build()), install_deps_packages())
      << "the image must build from the same packages as .ci/install-deps";
  bool builds_operator = false;
  for (const auto& i : build().instructions) {
    if (i.keyword == "RUN" && i.rest.find("--target cd4ml-operator") != std::string::npos) {
      builds_operator = true;
    }
  }
  EXPECT_TRUE(builds_operator);
}

// Package names such as libyaml-cpp0.7 belong to one Debian release: the
// images must be that release, the one the libraries above were mapped on.
TEST_F(DockerfileTest, BaseImagesAreTheDebianReleaseTheLibrariesWereMappedOn) {
  std::string codename;
  std::istringstream os_release(read_text("/etc/os-release"));
  for (std::string line; std::getline(os_release, line);) {
    if (line.rfind("VERSION_CODENAME=", 0) == 0) codename = line.substr(17);
  }
  ASSERT_FALSE(codename.empty());
  EXPECT_EQ(build().image, "debian:" + codename);
  EXPECT_EQ(runtime().image, "debian:" + codename + "-slim");
}

}  // namespace
}  // namespace cd4ml::e2e
