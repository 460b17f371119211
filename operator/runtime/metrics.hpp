#pragma once
// The operator's Prometheus metrics, on prometheus-cpp's registry. Names
// follow controller-runtime and client-go so existing dashboards and alerts
// work unchanged; cd4ml_* names are our own. docs/operations.md lists them all.
//
// Implements the observer hooks of the transport, informers, work queues and
// controllers, so those layers stay free of Prometheus. A label set appears
// (at zero) as soon as its controller or queue is first seen, so rate() and
// absent() queries work from the first scrape.

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "operator/kube/transport.hpp"
#include "operator/runtime/controller.hpp"
#include "operator/runtime/informer.hpp"
#include "operator/runtime/workqueue.hpp"

namespace cd4ml::runtime {

class Metrics final : public kube::RequestObserver,
                      public InformerObserver,
                      public QueueObserver,
                      public ReconcileObserver {
 public:
  Metrics();
  ~Metrics() override;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  prometheus::Registry& registry() { return *registry_; }

  // Prometheus text exposition (0.0.4) of everything, including process
  // metrics read from /proc at call time.
  std::string serialize();

  void set_leader(const std::string& lease_name, bool is_leader);

  // Sum of rest_client_requests_total over the write verbs (create, update,
  // patch, apply, delete): an idle operator must keep this flat.
  double write_requests_total() const;

  // kube::RequestObserver
  void on_request(std::string_view verb, std::string_view resource, int status,
                  std::chrono::nanoseconds latency) override;
  void on_rate_limited(std::chrono::nanoseconds waited) override;
  // InformerObserver
  void on_relist(const std::string& resource) override;
  void on_watch_restart(const std::string& resource) override;
  void on_event(const std::string& resource, std::string_view type) override;
  // QueueObserver
  void on_add(const std::string& queue) override;
  void on_depth(const std::string& queue, std::size_t depth) override;
  void on_queue_latency(const std::string& queue, std::chrono::nanoseconds waited) override;
  void on_work_duration(const std::string& queue, std::chrono::nanoseconds took) override;
  void on_retry(const std::string& queue) override;
  // ReconcileObserver
  void on_reconcile(const std::string& controller, std::string_view result,
                    std::chrono::nanoseconds took) override;

 private:
  struct Families;
  prometheus::Counter& counter(prometheus::Family<prometheus::Counter>& family,
                               const prometheus::Labels& labels);
  prometheus::Gauge& gauge(prometheus::Family<prometheus::Gauge>& family,
                           const prometheus::Labels& labels);
  prometheus::Histogram& histogram(prometheus::Family<prometheus::Histogram>& family,
                                   const prometheus::Labels& labels,
                                   const prometheus::Histogram::BucketBoundaries& buckets);
  void touch_queue(const std::string& queue);
  void touch_controller(const std::string& controller);

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;

  // prometheus-cpp's Family::Add allocates a metric on every call; looking the
  // metric up here first keeps the hot paths allocation-free.
  std::mutex cache_mutex_;
  std::unordered_map<std::string, prometheus::Counter*> counters_;
  std::unordered_map<std::string, prometheus::Gauge*> gauges_;
  std::unordered_map<std::string, prometheus::Histogram*> histograms_;
  std::set<std::string> known_queues_;
  std::set<std::string> known_controllers_;
};

// Reads the process's resident memory (bytes) and CPU time (seconds) from /proc/self.
struct ProcessStats {
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double cpu_seconds = 0;
  double open_fds = 0;
  double start_time_seconds = 0;
};
ProcessStats read_process_stats();

}  // namespace cd4ml::runtime
