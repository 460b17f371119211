#pragma once
// The operator's /metrics, read over plain HTTP from the benchmark process, and
// the request counters the scenarios report (writes per object, 409s).

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cd4ml::bench {

struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses the Prometheus text format (comments and blank lines skipped).
std::vector<MetricSample> parse_metrics_text(const std::string& text);

// GET http://<host:port>/metrics; throws when nothing answers or the status is not 200.
std::vector<MetricSample> scrape_metrics(const std::string& host_port);

// Sum of the samples of `name` whose labels include all of `labels`.
double metric_sum(const std::vector<MetricSample>& samples, const std::string& name,
                  const std::map<std::string, std::string>& labels = {});

// rest_client_requests_total, `after - before`, as
// {"by_resource": {"<resource>": {"<verb>": n}}, "by_code": {"<code>": n}};
// counters that did not move are left out.
nlohmann::json request_delta(const std::vector<MetricSample>& before,
                             const std::vector<MetricSample>& after);

}  // namespace cd4ml::bench
