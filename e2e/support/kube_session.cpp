#include "kube_session.hpp"

#include <regex>

namespace cd4ml::e2e {

void cluster_ctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {(source_dir() / "e2e" / "scripts" / "cluster-ctl.sh").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = run_command(argv, {}, std::chrono::seconds(180));
  ASSERT_EQ(r.exit_code, 0) << "cluster-ctl " << args.front() << ": " << r.err;
}

namespace {
std::string etcd_url() {
  const std::string port = cluster_env("ETCD_CLIENT_PORT");
  if (port.empty()) throw std::runtime_error("no ETCD_CLIENT_PORT in .cluster/env");
  return "http://127.0.0.1:" + port;
}

Json etcd_post(const std::string& path, const Json& body) {
  const CommandResult r =
      run_command({"curl", "-sS", "-X", "POST", etcd_url() + path, "-d", body.dump()});
  if (r.exit_code != 0) throw std::runtime_error("etcd " + path + ": " + r.err);
  return Json::parse(r.out);
}
}  // namespace

long etcd_revision() {
  // Key "/" base64-encoded; only the response header's revision matters.
  const Json reply = etcd_post("/v3/kv/range", {{"key", "Lw=="}, {"limit", 1}});
  return std::stol(reply["header"]["revision"].get<std::string>());
}

void etcd_compact(long revision) {
  etcd_post("/v3/kv/compaction", {{"revision", std::to_string(revision)}, {"physical", true}});
}

}  // namespace cd4ml::e2e
