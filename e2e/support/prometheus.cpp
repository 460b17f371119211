#include "prometheus.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <stdexcept>

#include "cluster.hpp"

namespace cd4ml::e2e {

namespace {

// GET <prometheus>/api/v1/<path> with URL-encoded `params`; the answer's
// "data", or an exception with curl's or Prometheus's words.
Json api_get(const std::string& path, const std::vector<std::string>& params = {}) {
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "10", "-G"};
  for (const auto& p : params) argv.insert(argv.end(), {"--data-urlencode", p});
  argv.push_back(prometheus_url() + "/api/v1/" + path);
  const CommandResult r = run_command(argv);
  if (r.exit_code != 0)
    throw std::runtime_error("Prometheus did not answer " + path + ": " + r.err);
  const Json answer = Json::parse(r.out, nullptr, false);
  if (answer.is_discarded()) throw std::runtime_error("Prometheus answered " + path + ": " + r.out);
  if (answer.value("status", "") != "success") {
    throw std::runtime_error("Prometheus refused " + path + ": " + answer.value("errorType", "") +
                             ": " + answer.value("error", r.out));
  }
  return answer.value("data", Json::object());
}

// "1733340000.123" for the API's time parameters.
std::string unix_seconds(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::string frac = std::to_string(1000 + ms % 1000).substr(1);
  return std::to_string(ms / 1000) + "." + frac;
}

// A sample's [time, "value"] pair ("NaN", "+Inf" included).
double sample_value(const Json& pair) {
  return std::stod(pair.at(1).get<std::string>());
}

std::string describe(const std::vector<PromSample>& samples) {
  std::string out = "[";
  for (const auto& s : samples) {
    out += " {";
    for (const auto& [k, v] : s.labels) out += k + "=\"" + v + "\",";
    out += "} " + std::to_string(s.value);
  }
  return out + " ]";
}

}  // namespace

std::string PromSample::label(const std::string& name) const {
  const auto it = labels.find(name);
  return it == labels.end() ? std::string() : it->second;
}

std::string prometheus_url() {
  const std::string port = cluster_env("PROMETHEUS_PORT");
  if (port.empty()) {
    throw std::runtime_error(
        "no PROMETHEUS_PORT in .cluster/env: is the cluster up (make cluster-up)?");
  }
  return "http://127.0.0.1:" + port;
}

std::vector<PromSample> prom_query(const std::string& promql,
                                   std::optional<std::chrono::system_clock::time_point> at) {
  std::vector<std::string> params = {"query=" + promql};
  if (at) params.push_back("time=" + unix_seconds(*at));
  const Json data = api_get("query", params);
  const std::string type = data.value("resultType", "");
  std::vector<PromSample> out;
  if (type == "scalar") {
    out.push_back({{}, sample_value(data.at("result"))});
  } else if (type == "vector") {
    for (const auto& s : data.at("result")) {
      out.push_back({s.value("metric", Json::object()).get<std::map<std::string, std::string>>(),
                     sample_value(s.at("value"))});
    }
  } else {
    throw std::runtime_error("query " + promql + " gave a " + type +
                             ", not an instant vector or scalar");
  }
  return out;
}

std::vector<PromSample> wait_for_series(const std::string& promql,
                                        std::chrono::milliseconds deadline) {
  std::vector<PromSample> result;
  std::string last;
  wait_until(
      "Prometheus to return series for " + promql, deadline,
      [&] {
        try {
          result = prom_query(promql);
          last = describe(result);
        } catch (const std::exception& e) {
          // Not there yet (e.g. restarting): keep asking until the deadline.
          result.clear();
          last = e.what();
        }
        return !result.empty();
      },
      [&] { return last; });
  return result;
}

Json prom_targets(const std::string& state) {
  return api_get("targets", {"state=" + state})
      .value(state == "dropped" ? "droppedTargets" : "activeTargets", Json::array());
}

void annotate_for_scraping(Json& pod_template, int port, const std::string& path) {
  Json& annotations = pod_template["metadata"]["annotations"];
  annotations["prometheus.io/scrape"] = "true";
  annotations["prometheus.io/port"] = std::to_string(port);
  annotations["prometheus.io/path"] = path;
}

HostTarget::HostTarget(const std::string& name, int port,
                       const std::map<std::string, std::string>& labels)
    : file_(source_dir() / ".cluster" / "prometheus" / "file_sd" / (name + ".json")) {
  const Json groups =
      Json::array({{{"targets", {"127.0.0.1:" + std::to_string(port)}}, {"labels", Json(labels)}}});
  // Written beside it and renamed in: Prometheus watches the directory and
  // must never read half a file.
  const auto tmp = file_.string() + ".tmp";
  std::ofstream(tmp) << groups.dump();
  std::filesystem::rename(tmp, file_);
}

HostTarget::~HostTarget() {
  std::error_code ignored;
  std::filesystem::remove(file_, ignored);
}

HostEchoServer::HostEchoServer(const std::string& release, const std::string& revision,
                               const std::string& model_version) {
  const auto log = test_log_dir() / "echo-server-host.log";
  std::filesystem::remove(log);  // the port is read from it
  process_ = std::make_unique<Process>(
      std::vector<std::string>{
          "env", "PORT=0", "BIND_ADDRESS=127.0.0.1", "CD4ML_RELEASE=" + release,
          "CD4ML_REVISION=" + revision, "CD4ML_MODEL_VERSION=" + model_version, "python3", "-u",
          (source_dir() / "e2e" / "images" / "echo-server" / "server.py").string()},
      log);
  // It prints `echo-server {...} on :<port>` once it listens.
  const std::regex listening(R"( on :([0-9]+)\n)");
  wait_until(
      "the host echo server to listen", std::chrono::seconds(20),
      [&] {
        std::smatch m;
        const std::string text = process_->log();
        if (!std::regex_search(text, m, listening)) return false;
        port_ = std::stoi(m[1]);
        return true;
      },
      [&] { return process_->log(); });
}

HostEchoServer::~HostEchoServer() {
  process_->stop(std::chrono::seconds(5));
}

bool HostEchoServer::get(const std::string& path) const {
  return run_command({"curl", "-sf", "--max-time", "5", "-o", "/dev/null",
                      "http://127.0.0.1:" + std::to_string(port_) + path})
             .exit_code == 0;
}

}  // namespace cd4ml::e2e
