#include "operator/runtime/metrics.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <map>
#include <sstream>

namespace cd4ml::runtime {
namespace {

using namespace std::chrono_literals;

// The exposition parsed back: samples by "name{label="value",...}" with labels
// sorted, plus each family's HELP and TYPE.
struct Exposition {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::map<std::string, std::string> helps;

  double at(const std::string& series) const {
    const auto it = samples.find(series);
    if (it == samples.end()) throw std::out_of_range("no sample " + series);
    return it->second;
  }
  bool has(const std::string& series) const { return samples.contains(series); }
};

Exposition parse(const std::string& text) {
  Exposition out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0) {
      const auto rest = line.substr(7);
      const auto space = rest.find(' ');
      out.helps[rest.substr(0, space)] = rest.substr(space + 1);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      const auto rest = line.substr(7);
      const auto space = rest.find(' ');
      out.types[rest.substr(0, space)] = rest.substr(space + 1);
      continue;
    }
    if (line[0] == '#') continue;
    std::string series;
    std::size_t pos = line.find_first_of("{ ");
    const std::string name = line.substr(0, pos);
    std::map<std::string, std::string> labels;
    if (line[pos] == '{') {
      ++pos;
      while (line[pos] != '}') {
        const auto eq = line.find('=', pos);
        const std::string label = line.substr(pos, eq - pos);
        std::string value;
        pos = eq + 2;  // skip ="
        while (line[pos] != '"') {
          if (line[pos] == '\\') ++pos;
          value.push_back(line[pos++]);
        }
        ++pos;  // closing quote
        if (line[pos] == ',') ++pos;
        labels[label] = value;
      }
      ++pos;  // }
    }
    series = name;
    if (!labels.empty()) {
      series += "{";
      bool first = true;
      for (const auto& [label, value] : labels) {
        if (!first) series += ",";
        series += label + "=\"" + value + "\"";
        first = false;
      }
      series += "}";
    }
    std::istringstream value_text(line.substr(pos));
    std::string value;
    value_text >> value;
    out.samples[series] = value == "+Inf" ? HUGE_VAL : std::stod(value);
  }
  return out;
}

TEST(Metrics, ReconcileFamiliesCountResultsErrorsAndDurations) {
  Metrics metrics;
  metrics.on_reconcile("trainingrun", "success", 20ms);
  metrics.on_reconcile("trainingrun", "success", 2s);
  metrics.on_reconcile("trainingrun", "error", 100ms);
  const auto text = metrics.serialize();
  const auto e = parse(text);

  EXPECT_EQ(e.types.at("controller_runtime_reconcile_total"), "counter");
  EXPECT_FALSE(e.helps.at("controller_runtime_reconcile_total").empty());
  EXPECT_EQ(
      e.at(R"(controller_runtime_reconcile_total{controller="trainingrun",result="success"})"), 2);
  EXPECT_EQ(e.at(R"(controller_runtime_reconcile_total{controller="trainingrun",result="error"})"),
            1);
  // Touched label sets exist at zero, so rate() works before the first requeue.
  EXPECT_EQ(
      e.at(
          R"(controller_runtime_reconcile_total{controller="trainingrun",result="requeue_after"})"),
      0);
  EXPECT_EQ(
      e.at(R"(controller_runtime_reconcile_total{controller="trainingrun",result="deferred"})"), 0);
  EXPECT_EQ(e.at(R"(controller_runtime_reconcile_errors_total{controller="trainingrun"})"), 1);

  EXPECT_EQ(e.types.at("controller_runtime_reconcile_time_seconds"), "histogram");
  EXPECT_EQ(e.at(R"(controller_runtime_reconcile_time_seconds_count{controller="trainingrun"})"),
            3);
  EXPECT_NEAR(e.at(R"(controller_runtime_reconcile_time_seconds_sum{controller="trainingrun"})"),
              2.12, 1e-9);
  EXPECT_EQ(
      e.at(
          R"(controller_runtime_reconcile_time_seconds_bucket{controller="trainingrun",le="0.025"})"),
      1);
  EXPECT_EQ(
      e.at(
          R"(controller_runtime_reconcile_time_seconds_bucket{controller="trainingrun",le="0.1"})"),
      2);
  EXPECT_EQ(
      e.at(
          R"(controller_runtime_reconcile_time_seconds_bucket{controller="trainingrun",le="+Inf"})"),
      3);
}

TEST(Metrics, WorkQueueFamilies) {
  Metrics metrics;
  metrics.on_add("trainingrun");
  metrics.on_add("trainingrun");
  metrics.on_depth("trainingrun", 2);
  metrics.on_queue_latency("trainingrun", 5ms);
  metrics.on_work_duration("trainingrun", 300ms);
  metrics.on_retry("trainingrun");
  metrics.on_depth("modelrelease", 0);
  const auto e = parse(metrics.serialize());
  EXPECT_EQ(e.types.at("workqueue_depth"), "gauge");
  EXPECT_EQ(e.at(R"(workqueue_depth{name="trainingrun"})"), 2);
  EXPECT_EQ(e.at(R"(workqueue_adds_total{name="trainingrun"})"), 2);
  EXPECT_EQ(e.at(R"(workqueue_retries_total{name="trainingrun"})"), 1);
  EXPECT_EQ(e.at(R"(workqueue_queue_duration_seconds_count{name="trainingrun"})"), 1);
  EXPECT_EQ(e.at(R"(workqueue_queue_duration_seconds_bucket{le="0.01",name="trainingrun"})"), 1);
  EXPECT_EQ(e.at(R"(workqueue_queue_duration_seconds_bucket{le="0.001",name="trainingrun"})"), 0);
  EXPECT_NEAR(e.at(R"(workqueue_work_duration_seconds_sum{name="trainingrun"})"), 0.3, 1e-9);
  // A queue seen only through its depth has all its series at zero.
  EXPECT_EQ(e.at(R"(workqueue_adds_total{name="modelrelease"})"), 0);
  EXPECT_EQ(e.at(R"(workqueue_retries_total{name="modelrelease"})"), 0);
}

TEST(Metrics, RestClientFamiliesAndWriteTotal) {
  Metrics metrics;
  metrics.on_request("list", "configmaps", 200, 30ms);
  metrics.on_request("watch", "configmaps", 200, 1ms);
  metrics.on_request("create", "jobs", 201, 10ms);
  metrics.on_request("update", "trainingruns/status", 409, 10ms);
  metrics.on_request("patch", "events", 200, 10ms);
  metrics.on_request("apply", "configmaps", 200, 10ms);
  metrics.on_request("delete", "deployments", 200, 10ms);
  metrics.on_request("get", "jobs", 0, 30s);
  metrics.on_rate_limited(50ms);
  const auto e = parse(metrics.serialize());
  EXPECT_EQ(e.at(R"(rest_client_requests_total{code="200",resource="configmaps",verb="list"})"), 1);
  EXPECT_EQ(e.at(R"(rest_client_requests_total{code="201",resource="jobs",verb="create"})"), 1);
  EXPECT_EQ(
      e.at(
          R"(rest_client_requests_total{code="409",resource="trainingruns/status",verb="update"})"),
      1);
  EXPECT_EQ(e.at(R"(rest_client_requests_total{code="<error>",resource="jobs",verb="get"})"), 1);
  EXPECT_EQ(e.at(R"(rest_client_request_duration_seconds_count{verb="get"})"), 1);
  EXPECT_EQ(e.at(R"(rest_client_rate_limiter_duration_seconds_count)"), 1);
  EXPECT_EQ(metrics.write_requests_total(), 5);
}

TEST(Metrics, WatchAndLeaderFamilies) {
  Metrics metrics;
  metrics.on_relist("configmaps");
  metrics.on_watch_restart("configmaps");
  metrics.on_watch_restart("configmaps");
  metrics.on_event("configmaps", "ADDED");
  metrics.on_event("configmaps", "ADDED");
  metrics.on_event("configmaps", "DELETED");
  metrics.set_leader("cd4ml-operator-leader", true);
  auto e = parse(metrics.serialize());
  EXPECT_EQ(e.at(R"(cd4ml_watch_relists_total{resource="configmaps"})"), 1);
  EXPECT_EQ(e.at(R"(cd4ml_watch_restarts_total{resource="configmaps"})"), 2);
  EXPECT_EQ(e.at(R"(cd4ml_watch_events_total{resource="configmaps",type="ADDED"})"), 2);
  EXPECT_EQ(e.at(R"(cd4ml_watch_events_total{resource="configmaps",type="DELETED"})"), 1);
  EXPECT_EQ(e.at(R"(leader_election_master_status{name="cd4ml-operator-leader"})"), 1);
  metrics.set_leader("cd4ml-operator-leader", false);
  e = parse(metrics.serialize());
  EXPECT_EQ(e.at(R"(leader_election_master_status{name="cd4ml-operator-leader"})"), 0);
}

TEST(Metrics, ProcessFamiliesComeFromProc) {
  Metrics metrics;
  const auto e = parse(metrics.serialize());
  EXPECT_EQ(e.types.at("process_cpu_seconds_total"), "counter");
  EXPECT_EQ(e.types.at("process_resident_memory_bytes"), "gauge");
  // This test process is running: it has memory, file descriptors and a start time.
  EXPECT_GT(e.at("process_resident_memory_bytes"), 1e5);
  EXPECT_GE(e.at("process_virtual_memory_bytes"), e.at("process_resident_memory_bytes"));
  EXPECT_GE(e.at("process_open_fds"), 3);
  EXPECT_GE(e.at("process_cpu_seconds_total"), 0);
  const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  EXPECT_LE(e.at("process_start_time_seconds"), now + 1);
  EXPECT_GT(e.at("process_start_time_seconds"), now - 24 * 3600);
}

TEST(Metrics, ProcessCpuTimeGrowsWithWork) {
  const double before = read_process_stats().cpu_seconds;
  volatile double sink = 0;
  const auto until = std::chrono::steady_clock::now() + 300ms;
  while (std::chrono::steady_clock::now() < until) sink = sink + 1.0;  // burn CPU, not sleep
  EXPECT_GT(read_process_stats().cpu_seconds, before);
}

TEST(Metrics, LabelValuesAreEscapedInTheText) {
  Metrics metrics;
  metrics.on_reconcile("we\"ird\\name", "success", 1ms);
  const auto text = metrics.serialize();
  EXPECT_NE(text.find(R"(controller="we\"ird\\name")"), std::string::npos) << text;
  const auto e = parse(text);
  EXPECT_EQ(
      e.at(R"(controller_runtime_reconcile_total{controller="we"ird\name",result="success"})"), 1);
}

}  // namespace
}  // namespace cd4ml::runtime
