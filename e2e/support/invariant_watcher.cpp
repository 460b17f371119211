#include "invariant_watcher.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <set>
#include <utility>

#include "operator/kube/client.hpp"
#include "operator/kube/config.hpp"
#include "operator/runtime/informer.hpp"

namespace cd4ml::e2e {

struct InvariantWatcher::Client {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  kube::Transport transport;
  kube::Client client;
  std::unique_ptr<runtime::Informer> services;
  std::thread io_thread;

  Client()
      : transport(io, kube::load_kubeconfig(kubeconfig_path()), util::real_clock()),
        client(transport),
        io_thread([this] { io.run(); }) {}
  ~Client() {
    if (services) services->stop();
    transport.shutdown();
    work.reset();
    io.stop();
    io_thread.join();
  }
};

InvariantWatcher::InvariantWatcher(std::string ns, std::string release, int replicas)
    : ns_(std::move(ns)),
      release_(std::move(release)),
      replicas_(replicas),
      client_(std::make_unique<Client>()) {
  runtime::InformerOptions options;
  options.ns = ns_;
  client_->services =
      std::make_unique<runtime::Informer>(client_->transport, kube::resources::kServices, options);
  const auto notify = [this] {
    std::lock_guard lock(mutex_);
    changed_ = true;
    wake_.notify_all();
  };
  client_->services->add_handlers(
      {[notify](const runtime::ObjectPtr&) { notify(); },
       [notify](const runtime::ObjectPtr&, const runtime::ObjectPtr&) { notify(); },
       [notify](const runtime::ObjectPtr&) { notify(); }});
  client_->services->start();
  thread_ = std::thread([this] { loop(); });
}

InvariantWatcher::~InvariantWatcher() {
  stop();
}

void InvariantWatcher::stop() {
  if (stop_.exchange(true)) return;
  {
    std::lock_guard lock(mutex_);
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  client_.reset();
}

std::vector<std::string> InvariantWatcher::violations() const {
  std::lock_guard lock(mutex_);
  return violations_;
}

std::vector<std::string> InvariantWatcher::active_history() const {
  std::lock_guard lock(mutex_);
  return active_history_;
}

std::vector<std::chrono::system_clock::time_point> InvariantWatcher::active_seen_at() const {
  std::lock_guard lock(mutex_);
  return active_seen_at_;
}

void InvariantWatcher::loop() {
  while (!stop_) {
    try {
      check();
    } catch (const std::exception& e) {
      // The API server may be restarting in chaos tests; the next check retries.
    }
    std::unique_lock lock(mutex_);
    // Woken at once by a Service change; otherwise re-check every 100 ms.
    wake_.wait_for(lock, std::chrono::milliseconds(100),
                   [this] { return changed_ || stop_.load(); });
    changed_ = false;
  }
}

void InvariantWatcher::check() {
  // Fresh reads, not the watch cache: the pods must be judged as they are now.
  const auto active = client_->client.try_get(kube::resources::kServices, ns_, release_);
  auto preview = client_->client.try_get(kube::resources::kServices, ns_, release_ + "-preview");
  if (!preview)
    preview = client_->client.try_get(kube::resources::kServices, ns_, release_ + "-canary");
  kube::ListOptions options;
  options.label_selector = "cd4ml.io/release=" + release_;
  const auto pods = client_->client.list(kube::resources::kPods, ns_, options).items;
  const auto ready_pods = [&pods](const std::string& revision) {
    int ready = 0;
    for (const auto& pod : pods) {
      if (pod["metadata"].value("labels", Json::object()).value("cd4ml.io/revision", "") !=
          revision)
        continue;
      if (pod["metadata"].contains("deletionTimestamp")) continue;
      for (const auto& c : pod.value("/status/conditions"_json_pointer, Json::array())) {
        if (c.value("type", "") == "Ready" && c.value("status", "") == "True") ++ready;
      }
    }
    return ready;
  };
  // "*" for a canary's shared selection (the release, any revision).
  const auto revision_of = [](const Json& service) {
    const Json selector = service.value("/spec/selector"_json_pointer, Json::object());
    if (!selector.contains("cd4ml.io/revision")) return std::string("*");
    return selector.value("cd4ml.io/revision", "");
  };
  ++checks_;
  std::lock_guard lock(mutex_);
  if (active && revision_of(*active) == "*") {
    // Shared by a canary: the revision active before it keeps every pod,
    // and no third revision has ready pods behind the Service.
    if (active_history_.empty() || active_history_.back() != "*") {
      active_history_.push_back("*");
      active_seen_at_.push_back(std::chrono::system_clock::now());
    }
    std::string stable;
    for (auto it = active_history_.rbegin(); it != active_history_.rend(); ++it) {
      if (*it != "*") {
        stable = *it;
        break;
      }
    }
    std::set<std::string> serving;
    for (const auto& pod : pods) {
      const std::string rev =
          pod["metadata"].value("labels", Json::object()).value("cd4ml.io/revision", "");
      if (ready_pods(rev) > 0) serving.insert(rev);
    }
    if (ready_pods(stable) < replicas_ || serving.size() > 2) {
      violations_.push_back("shared active Service: stable revision " + stable + " has " +
                            std::to_string(ready_pods(stable)) + "/" + std::to_string(replicas_) +
                            " ready pods, " + std::to_string(serving.size()) +
                            " revisions have ready pods");
    }
  } else if (active) {
    const std::string rev = revision_of(*active);
    if (active_history_.empty() || active_history_.back() != rev) {
      active_history_.push_back(rev);
      active_seen_at_.push_back(std::chrono::system_clock::now());
    }
    const int ready = ready_pods(rev);
    if (ready < replicas_) {
      violations_.push_back("active Service selects revision " + rev + " with " +
                            std::to_string(ready) + "/" + std::to_string(replicas_) +
                            " ready pods");
    }
  }
  if (preview) {
    const std::string rev = revision_of(*preview);
    if (rev != "none" && ready_pods(rev) == 0) {
      violations_.push_back("preview Service selects revision " + rev + " with no ready pod");
    }
  }
}

}  // namespace cd4ml::e2e
