#pragma once
// Owns what controllers share and runs them in controller-runtime's order:
//   1. io thread, health/metrics servers (healthz at once, readyz after sync);
//   2. informers (shared: one per resource type), until all have synced;
//   3. leader election (if enabled);
//   4. controllers, once leading.
// SIGTERM/SIGINT: controllers stop taking work and in-flight reconciles get
// the grace period to finish; then the lease is released, informers and
// servers stop, and run() returns 0. Losing the lease stops the controllers at
// once and run() returns 1, so the pod restarts and campaigns again.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "operator/kube/client.hpp"
#include "operator/kube/client_writer.hpp"
#include "operator/kube/config.hpp"
#include "operator/kube/transport.hpp"
#include "operator/runtime/controller.hpp"
#include "operator/runtime/event_recorder.hpp"
#include "operator/runtime/http_server.hpp"
#include "operator/runtime/informer.hpp"
#include "operator/runtime/leader_election.hpp"
#include "operator/runtime/logging.hpp"
#include "operator/runtime/metrics.hpp"

namespace cd4ml::runtime {

struct ManagerOptions {
  std::string watch_namespace;  // "" = all namespaces
  bool leader_elect = false;
  LeaderElectionOptions leader_election{};
  std::string metrics_bind_address = ":8080";
  std::string health_probe_bind_address = ":8081";
  int max_concurrent_reconciles = 1;
  double kube_api_qps = 20.0;
  int kube_api_burst = 30;
  std::chrono::milliseconds graceful_shutdown_timeout{std::chrono::seconds(30)};
  // How long start-up waits for the API server to answer (startup_check.hpp).
  std::chrono::milliseconds startup_timeout{std::chrono::seconds(30)};
  kube::WatchMachineOptions watch{};
  // Where live analysis asks Prometheus when a release names no address.
  std::string prometheus_address;
};

class Manager {
 public:
  // `clock` must outlive the manager: util::real_clock() in production.
  Manager(ManagerOptions options, kube::ClusterConfig config, const util::Clock& clock);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  kube::Transport& transport() { return *transport_; }
  kube::Client& client() { return *client_; }
  // The client's writes, as reconcilers make them.
  kube::Writer& writer() { return *writer_; }
  EventRecorder& recorder() { return *recorder_; }
  Metrics& metrics() { return *metrics_; }
  const util::Clock& clock() const { return clock_; }
  const ManagerOptions& options() const { return options_; }

  // The shared informer for a type (and label selector), created on first use
  // with the watch namespace and observers applied. Call before run().
  Informer& informer(const kube::ResourceType& type, const std::string& label_selector = {});
  // A controller with the manager's queue/reconcile observers and worker
  // count; the manager keeps the reconciler alive as long as itself.
  Controller& add_controller(const std::string& name, std::unique_ptr<Reconciler> reconciler);

  // Blocks until shutdown; returns the process exit code.
  int run();
  // Asks run() to shut down gracefully; safe from any thread or signal context.
  void request_stop();

  // True when run() returned with reconciles still running past the grace
  // period: the process must exit without destroying the controllers (their
  // destructors would wait for those reconciles).
  bool abandoned_reconciles() const { return abandoned_reconciles_; }

  // Ports actually bound (after run() has started the servers).
  unsigned short metrics_port() const;
  unsigned short health_port() const;

 private:
  bool caches_synced() const;
  // Binds the metrics and health servers; throws StartupError naming the flag.
  void start_servers();
  // startup_check.hpp, for every informer's type; throws StartupError.
  void check_access();

  ManagerOptions options_;
  const util::Clock& clock_;
  std::string server_;  // the API server's URL, for messages
  Logger log_;
  boost::asio::io_context io_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<kube::Transport> transport_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<kube::ClientWriter> writer_;
  std::unique_ptr<EventRecorder> recorder_;
  std::map<std::string, std::unique_ptr<Informer>> informers_;
  std::vector<std::unique_ptr<Reconciler>> reconcilers_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::unique_ptr<HttpServer> metrics_server_;
  std::unique_ptr<HttpServer> health_server_;
  std::unique_ptr<LeaderElector> elector_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> leadership_lost_{false};
  bool abandoned_reconciles_ = false;
};

}  // namespace cd4ml::runtime
