#include "operator/runtime/metrics.hpp"

#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace cd4ml::runtime {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

// controller-runtime's reconcile_time_seconds buckets.
const Histogram::BucketBoundaries& reconcile_buckets() {
  static const Histogram::BucketBoundaries buckets = {
      0.005, 0.01, 0.025, 0.05, 0.1,  0.15, 0.2,  0.25, 0.3,  0.35, 0.4,  0.45, 0.5, 0.6,
      0.7,   0.8,  0.9,   1.0,  1.25, 1.5,  1.75, 2.0,  2.5,  3.0,  3.5,  4.0,  4.5, 5.0,
      6.0,   7.0,  8.0,   9.0,  10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0};
  return buckets;
}

// client-go's workqueue buckets: 10 ns .. 10 s, a decade apart.
const Histogram::BucketBoundaries& queue_buckets() {
  static const Histogram::BucketBoundaries buckets = {1e-8, 1e-7, 1e-6, 1e-5, 1e-4,
                                                      1e-3, 1e-2, 1e-1, 1.0,  10.0};
  return buckets;
}

// client-go's rest client latency buckets.
const Histogram::BucketBoundaries& request_buckets() {
  static const Histogram::BucketBoundaries buckets = {0.005, 0.025, 0.1, 0.25, 0.5,  1.0,
                                                      2.0,   4.0,   8.0, 15.0, 30.0, 60.0};
  return buckets;
}

template <typename T>
std::string cache_key(const Family<T>& family, const Labels& labels) {
  std::string key = family.GetName();
  for (const auto& [name, value] : labels) {
    key.push_back('\x1f');
    key += name;
    key.push_back('=');
    key += value;
  }
  return key;
}

// Reports the /proc figures as metric families at scrape time.
std::vector<prometheus::MetricFamily> process_families() {
  const ProcessStats stats = read_process_stats();
  auto family = [](std::string name, std::string help, prometheus::MetricType type, double value) {
    prometheus::MetricFamily out;
    out.name = std::move(name);
    out.help = std::move(help);
    out.type = type;
    prometheus::ClientMetric metric;
    if (type == prometheus::MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    out.metric.push_back(std::move(metric));
    return out;
  };
  using prometheus::MetricType;
  return {
      family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
             MetricType::Counter, stats.cpu_seconds),
      family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
             stats.open_fds),
      family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
             stats.resident_bytes),
      family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
             MetricType::Gauge, stats.start_time_seconds),
      family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
             stats.virtual_bytes),
  };
}

}  // namespace

struct Metrics::Families {
  explicit Families(prometheus::Registry& r)
      : reconcile_total(prometheus::BuildCounter()
                            .Name("controller_runtime_reconcile_total")
                            .Help("Total number of reconciliations per controller")
                            .Register(r)),
        reconcile_errors(prometheus::BuildCounter()
                             .Name("controller_runtime_reconcile_errors_total")
                             .Help("Total number of reconciliation errors per controller")
                             .Register(r)),
        reconcile_time(prometheus::BuildHistogram()
                           .Name("controller_runtime_reconcile_time_seconds")
                           .Help("Length of time per reconciliation per controller")
                           .Register(r)),
        queue_depth(prometheus::BuildGauge()
                        .Name("workqueue_depth")
                        .Help("Current depth of workqueue")
                        .Register(r)),
        queue_adds(prometheus::BuildCounter()
                       .Name("workqueue_adds_total")
                       .Help("Total number of adds handled by workqueue")
                       .Register(r)),
        queue_latency(prometheus::BuildHistogram()
                          .Name("workqueue_queue_duration_seconds")
                          .Help("How long in seconds an item stays in workqueue before being "
                                "requested")
                          .Register(r)),
        work_duration(prometheus::BuildHistogram()
                          .Name("workqueue_work_duration_seconds")
                          .Help("How long in seconds processing an item from workqueue takes")
                          .Register(r)),
        queue_retries(prometheus::BuildCounter()
                          .Name("workqueue_retries_total")
                          .Help("Total number of retries handled by workqueue")
                          .Register(r)),
        requests(prometheus::BuildCounter()
                     .Name("rest_client_requests_total")
                     .Help("Number of HTTP requests to the API server, partitioned by verb, "
                           "resource and status code (\"<error>\" when no response arrived)")
                     .Register(r)),
        request_latency(prometheus::BuildHistogram()
                            .Name("rest_client_request_duration_seconds")
                            .Help("Request latency in seconds, by verb")
                            .Register(r)),
        rate_limiter_latency(prometheus::BuildHistogram()
                                 .Name("rest_client_rate_limiter_duration_seconds")
                                 .Help("Client-side rate limiter latency in seconds")
                                 .Register(r)),
        relists(
            prometheus::BuildCounter()
                .Name("cd4ml_watch_relists_total")
                .Help(
                    "Relists of a watched resource after the initial list (410 Gone, list errors)")
                .Register(r)),
        watch_restarts(prometheus::BuildCounter()
                           .Name("cd4ml_watch_restarts_total")
                           .Help("Watch requests re-established after the stream ended or failed")
                           .Register(r)),
        watch_events(prometheus::BuildCounter()
                         .Name("cd4ml_watch_events_total")
                         .Help("Watch events received, by resource and event type")
                         .Register(r)),
        leader(prometheus::BuildGauge()
                   .Name("leader_election_master_status")
                   .Help("Gauge of whether this process is the leader (1) or not (0)")
                   .Register(r)) {}

  Family<Counter>& reconcile_total;
  Family<Counter>& reconcile_errors;
  Family<Histogram>& reconcile_time;
  Family<Gauge>& queue_depth;
  Family<Counter>& queue_adds;
  Family<Histogram>& queue_latency;
  Family<Histogram>& work_duration;
  Family<Counter>& queue_retries;
  Family<Counter>& requests;
  Family<Histogram>& request_latency;
  Family<Histogram>& rate_limiter_latency;
  Family<Counter>& relists;
  Family<Counter>& watch_restarts;
  Family<Counter>& watch_events;
  Family<Gauge>& leader;
};

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      families_(std::make_unique<Families>(*registry_)) {}

Metrics::~Metrics() = default;

Counter& Metrics::counter(Family<Counter>& family, const Labels& labels) {
  std::lock_guard lock(cache_mutex_);
  auto& slot = counters_[cache_key(family, labels)];
  if (!slot) slot = &family.Add(labels);
  return *slot;
}

Gauge& Metrics::gauge(Family<Gauge>& family, const Labels& labels) {
  std::lock_guard lock(cache_mutex_);
  auto& slot = gauges_[cache_key(family, labels)];
  if (!slot) slot = &family.Add(labels);
  return *slot;
}

Histogram& Metrics::histogram(Family<Histogram>& family, const Labels& labels,
                              const Histogram::BucketBoundaries& buckets) {
  std::lock_guard lock(cache_mutex_);
  auto& slot = histograms_[cache_key(family, labels)];
  if (!slot) slot = &family.Add(labels, buckets);
  return *slot;
}

void Metrics::touch_queue(const std::string& queue) {
  {
    std::lock_guard lock(cache_mutex_);
    if (!known_queues_.insert(queue).second) return;
  }
  const Labels labels{{"name", queue}};
  gauge(families_->queue_depth, labels);
  counter(families_->queue_adds, labels);
  counter(families_->queue_retries, labels);
  histogram(families_->queue_latency, labels, queue_buckets());
  histogram(families_->work_duration, labels, queue_buckets());
}

void Metrics::touch_controller(const std::string& controller) {
  {
    std::lock_guard lock(cache_mutex_);
    if (!known_controllers_.insert(controller).second) return;
  }
  for (const char* result : {"success", "error", "requeue_after", "deferred"}) {
    counter(families_->reconcile_total, {{"controller", controller}, {"result", result}});
  }
  counter(families_->reconcile_errors, {{"controller", controller}});
  histogram(families_->reconcile_time, {{"controller", controller}}, reconcile_buckets());
}

std::string Metrics::serialize() {
  auto families = registry_->Collect();
  for (auto& family : process_families()) families.push_back(std::move(family));
  return prometheus::TextSerializer().Serialize(families);
}

void Metrics::set_leader(const std::string& lease_name, bool is_leader) {
  gauge(families_->leader, {{"name", lease_name}}).Set(is_leader ? 1.0 : 0.0);
}

double Metrics::write_requests_total() const {
  double total = 0;
  for (const auto& family : families_->requests.Collect()) {
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "verb" &&
            (label.value == "create" || label.value == "update" || label.value == "patch" ||
             label.value == "apply" || label.value == "delete")) {
          total += metric.counter.value;
        }
      }
    }
  }
  return total;
}

void Metrics::on_request(std::string_view verb, std::string_view resource, int status,
                         std::chrono::nanoseconds latency) {
  const std::string verb_label(verb);
  const std::string code = status == 0 ? "<error>" : std::to_string(status);
  counter(families_->requests,
          {{"verb", verb_label}, {"resource", std::string(resource)}, {"code", code}})
      .Increment();
  histogram(families_->request_latency, {{"verb", verb_label}}, request_buckets())
      .Observe(seconds(latency));
}

void Metrics::on_rate_limited(std::chrono::nanoseconds waited) {
  histogram(families_->rate_limiter_latency, {}, request_buckets()).Observe(seconds(waited));
}

void Metrics::on_relist(const std::string& resource) {
  counter(families_->relists, {{"resource", resource}}).Increment();
}

void Metrics::on_watch_restart(const std::string& resource) {
  counter(families_->watch_restarts, {{"resource", resource}}).Increment();
}

void Metrics::on_event(const std::string& resource, std::string_view type) {
  counter(families_->watch_events, {{"resource", resource}, {"type", std::string(type)}})
      .Increment();
}

void Metrics::on_add(const std::string& queue) {
  touch_queue(queue);
  counter(families_->queue_adds, {{"name", queue}}).Increment();
}

void Metrics::on_depth(const std::string& queue, std::size_t depth) {
  touch_queue(queue);
  gauge(families_->queue_depth, {{"name", queue}}).Set(static_cast<double>(depth));
}

void Metrics::on_queue_latency(const std::string& queue, std::chrono::nanoseconds waited) {
  touch_queue(queue);
  histogram(families_->queue_latency, {{"name", queue}}, queue_buckets()).Observe(seconds(waited));
}

void Metrics::on_work_duration(const std::string& queue, std::chrono::nanoseconds took) {
  touch_queue(queue);
  histogram(families_->work_duration, {{"name", queue}}, queue_buckets()).Observe(seconds(took));
}

void Metrics::on_retry(const std::string& queue) {
  touch_queue(queue);
  counter(families_->queue_retries, {{"name", queue}}).Increment();
}

void Metrics::on_reconcile(const std::string& controller, std::string_view result,
                           std::chrono::nanoseconds took) {
  touch_controller(controller);
  counter(families_->reconcile_total, {{"controller", controller}, {"result", std::string(result)}})
      .Increment();
  if (result == "error")
    counter(families_->reconcile_errors, {{"controller", controller}}).Increment();
  histogram(families_->reconcile_time, {{"controller", controller}}, reconcile_buckets())
      .Observe(seconds(took));
}

ProcessStats read_process_stats() {
  ProcessStats stats;
  const double page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));

  if (std::ifstream statm("/proc/self/statm"); statm) {
    double size_pages = 0;
    double resident_pages = 0;
    if (statm >> size_pages >> resident_pages) {
      stats.virtual_bytes = size_pages * page_size;
      stats.resident_bytes = resident_pages * page_size;
    }
  }

  if (std::ifstream stat_file("/proc/self/stat"); stat_file) {
    std::string line;
    std::getline(stat_file, line);
    // The command name (field 2) is in parentheses and may hold spaces; the
    // numbered fields start after its closing parenthesis, at field 3.
    const auto close = line.rfind(')');
    if (close != std::string::npos) {
      std::istringstream rest(line.substr(close + 1));
      std::vector<std::string> fields;
      for (std::string field; rest >> field;) fields.push_back(field);
      auto field = [&](std::size_t number) -> double {
        const std::size_t index = number - 3;
        return index < fields.size() ? std::stod(fields[index]) : 0.0;
      };
      stats.cpu_seconds = (field(14) + field(15)) / ticks_per_second;  // utime + stime
      const double start_ticks = field(22);                            // since boot
      if (std::ifstream proc_stat("/proc/stat"); proc_stat) {
        for (std::string key; proc_stat >> key;) {
          if (key == "btime") {
            double boot_time = 0;
            proc_stat >> boot_time;
            stats.start_time_seconds = boot_time + start_ticks / ticks_per_second;
            break;
          }
          std::getline(proc_stat, line);
        }
      }
    }
  }

  std::error_code error;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++fds;
  }
  stats.open_fds = fds;
  return stats;
}

}  // namespace cd4ml::runtime
