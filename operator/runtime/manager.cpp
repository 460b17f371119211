#include "operator/runtime/manager.hpp"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>;
#include <utility>
// this comment keeps clang-format from sorting <utility> after it.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>

#include "operator/runtime/startup_check.hpp"

namespace cd4ml::runtime {

namespace {
// How often run() re-checks cache sync while waiting for it.
constexpr auto kSyncPollInterval = std::chrono::milliseconds(20);
constexpr auto kLeaseReleaseTimeout = std::chrono::seconds(5);
}  // namespace

Manager::Manager(ManagerOptions options, kube::ClusterConfig config, const util::Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      server_(config.server),
      log_(Logger().with({{"component", "manager"}})),
      metrics_(std::make_unique<Metrics>()) {
  kube::TransportOptions transport_options;
  transport_options.qps = options_.kube_api_qps;
  transport_options.burst = options_.kube_api_burst;
  transport_options.observer = metrics_.get();
  log_.info("connecting to the API server",
            {{"server", config.server}, {"config", config.description}});
  transport_ = std::make_unique<kube::Transport>(io_, std::move(config), clock_, transport_options);
  client_ = std::make_unique<kube::Client>(*transport_);
  writer_ = std::make_unique<kube::ClientWriter>(*client_);
  EventRecorderOptions recorder_options;
  recorder_options.host = options_.leader_election.identity.empty()
                              ? default_identity()
                              : options_.leader_election.identity;
  recorder_ = std::make_unique<EventRecorder>(*transport_, recorder_options, clock_);
}

Manager::~Manager() {
  io_.stop();
}

Informer& Manager::informer(const kube::ResourceType& type, const std::string& label_selector) {
  auto& slot =
      informers_[label_selector.empty() ? type.name() : type.name() + "?" + label_selector];
  if (!slot) {
    InformerOptions informer_options;
    informer_options.ns = options_.watch_namespace;
    informer_options.label_selector = label_selector;
    informer_options.watch = options_.watch;
    informer_options.observer = metrics_.get();
    slot = std::make_unique<Informer>(*transport_, type, std::move(informer_options));
  }
  return *slot;
}

Controller& Manager::add_controller(const std::string& name,
                                    std::unique_ptr<Reconciler> reconciler) {
  ControllerOptions controller_options;
  controller_options.name = name;
  controller_options.max_concurrent_reconciles = options_.max_concurrent_reconciles;
  controller_options.queue.name = name;
  controller_options.queue.observer = metrics_.get();
  controller_options.observer = metrics_.get();
  reconcilers_.push_back(std::move(reconciler));
  controllers_.push_back(
      std::make_unique<Controller>(controller_options, *reconcilers_.back(), clock_));
  return *controllers_.back();
}

bool Manager::caches_synced() const {
  for (const auto& [name, informer] : informers_) {
    if (!informer->has_synced()) return false;
  }
  return true;
}

void Manager::request_stop() {
  stop_requested_ = true;
  std::lock_guard lock(stop_mutex_);
  stop_cv_.notify_all();
}

unsigned short Manager::metrics_port() const {
  return metrics_server_ ? metrics_server_->port() : 0;
}

unsigned short Manager::health_port() const {
  return health_server_ ? health_server_->port() : 0;
}

void Manager::start_servers() {
  metrics_server_ = std::make_unique<HttpServer>(
      io_, options_.metrics_bind_address,
      std::vector<HttpRoute>{{"/metrics", [this] {
                                return std::tuple<int, std::string, std::string>{
                                    200, "text/plain; version=0.0.4; charset=utf-8",
                                    metrics_->serialize()};
                              }}});
  health_server_ = std::make_unique<HttpServer>(
      io_, options_.health_probe_bind_address,
      std::vector<HttpRoute>{
          {"/healthz",
           [] {
             return std::tuple<int, std::string, std::string>{200, "text/plain", "ok"};
           }},
          {"/readyz", [this] {
             std::string waiting;
             for (const auto& [name, informer] : informers_) {
               if (!informer->has_synced()) waiting += "cache not synced: " + name + "\n";
             }
             return waiting.empty()
                        ? std::tuple<int, std::string, std::string>{200, "text/plain", "ok"}
                        : std::tuple<int, std::string, std::string>{503, "text/plain", waiting};
           }}});
  const auto start = [](HttpServer& server, const char* what, const char* flag) {
    try {
      server.start();
    } catch (const std::exception& e) {
      throw StartupError(std::string(what) + " (" + flag + "): " + e.what());
    }
  };
  start(*metrics_server_, "metrics server", "--metrics-bind-address");
  start(*health_server_, "health probe server", "--health-probe-bind-address");
  log_.info("serving probes and metrics", {{"metrics", std::to_string(metrics_port())},
                                           {"health", std::to_string(health_port())}});
}

void Manager::check_access() {
  std::vector<AccessTarget> targets;
  for (const auto& [key, informer] : informers_) {
    const kube::ResourceType& type = informer->type();
    const std::string& ns = options_.watch_namespace;
    targets.push_back({type.name(),
                       ns.empty() || !type.namespaced ? "cluster-wide" : "in namespace " + ns,
                       [this, type, ns] {
                         kube::ListOptions one;
                         one.limit = 1;
                         client_->list(type, type.namespaced ? ns : "", one);
                       }});
  }
  StartupCheckOptions check;
  check.server = server_;
  check.timeout = options_.startup_timeout;
  check_api_access(targets, check, clock_, [this](std::chrono::milliseconds delay) {
    std::unique_lock lock(stop_mutex_);
    stop_cv_.wait_for(lock, delay, [this] { return stop_requested_.load(); });
    return !stop_requested_.load();
  });
}

int Manager::run() {
  auto work = boost::asio::make_work_guard(io_);
  boost::asio::signal_set signals(io_, SIGINT, SIGTERM);
  signals.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    if (!ec) {
      log_.info("shutting down", {{"signal", std::to_string(signal_number)}});
      request_stop();
    }
  });
  // Bound before the io thread exists: a port in use ends start-up with its
  // message, not with a running thread to tear down first.
  start_servers();
  std::thread io_thread([this] { io_.run(); });
  // Servers, transport and the io thread stop the same way on every exit.
  const auto stop_io = [&] {
    metrics_server_->stop();
    health_server_->stop();
    transport_->shutdown();
    signals.cancel();
    work.reset();
    io_.stop();
    io_thread.join();
  };
  try {
    check_access();
  } catch (...) {
    stop_io();
    throw;
  }

  for (auto& [name, informer] : informers_) informer->start();
  {
    std::unique_lock lock(stop_mutex_);
    while (!stop_requested_ && !caches_synced()) {
      stop_cv_.wait_for(lock, kSyncPollInterval);
    }
  }
  if (!stop_requested_)
    log_.info("caches synced", {{"informers", std::to_string(informers_.size())}});

  auto start_controllers = [this] {
    for (auto& controller : controllers_) controller->start();
    log_.info("controllers started", {{"count", std::to_string(controllers_.size())}});
  };
  if (!stop_requested_) {
    if (options_.leader_elect) {
      auto election = options_.leader_election;
      if (election.identity.empty()) election.identity = default_identity();
      LeaderCallbacks callbacks;
      callbacks.on_started_leading = [this, start_controllers, election] {
        metrics_->set_leader(election.lease_name, true);
        log_.info("became leader", {{"lease", election.lease_namespace + "/" + election.lease_name},
                                    {"identity", election.identity}});
        start_controllers();
      };
      callbacks.on_stopped_leading = [this, election] {
        metrics_->set_leader(election.lease_name, false);
        // Stop reconciling at once: another replica may already be leading.
        for (auto& controller : controllers_) controller->halt();
        log_.error("leadership lost; stopping", {{"identity", election.identity}});
        leadership_lost_ = true;
        std::lock_guard lock(stop_mutex_);
        stop_cv_.notify_all();
      };
      callbacks.on_new_leader = [this](const std::string& identity) {
        log_.info("leader observed", {{"leader", identity}});
      };
      elector_ = std::make_unique<LeaderElector>(*transport_, election, callbacks, clock_);
      elector_->start();
    } else {
      start_controllers();
    }
  }

  {
    std::unique_lock lock(stop_mutex_);
    stop_cv_.wait(lock, [this] { return stop_requested_.load() || leadership_lost_.load(); });
  }

  int exit_code = 0;
  if (leadership_lost_) {
    exit_code = 1;
  } else {
    const auto deadline = clock_.now() + options_.graceful_shutdown_timeout;
    for (auto& controller : controllers_) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.now());
      if (!controller->stop(std::max(left, std::chrono::milliseconds(0)))) {
        log_.error("reconciles still running at the end of the grace period",
                   {{"controller", controller->name()}});
        abandoned_reconciles_ = true;
      }
    }
    // A reconcile still writing must not overlap with a successor: keep the
    // lease (it expires on its own) unless every worker has finished.
    if (elector_ && !abandoned_reconciles_) elector_->stop_and_release(kLeaseReleaseTimeout);
    if (abandoned_reconciles_) exit_code = 1;
  }
  recorder_->flush(std::chrono::seconds(2));
  for (auto& [name, informer] : informers_) informer->stop();
  stop_io();
  log_.info("stopped", {{"exit_code", std::to_string(exit_code)}});
  return exit_code;
}

}  // namespace cd4ml::runtime
