#pragma once
// List+watch of one resource type (optionally one namespace / label selector)
// into a Store, driven by kube::WatchMachine on the transport's io thread.
// Event handlers run on the io thread too: they must be quick and must not
// block (enqueue keys, nothing else).
//
// The first complete list is stored with Store::replace() and dispatched as
// adds, after which has_synced() is true. A relist (410 Gone) replaces the
// store again and dispatches only the differences, including deletions missed
// while the watch was down. The cache half (InformerCache) is I/O-free and
// tested alone; this file adds the network loop.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "operator/kube/requests.hpp"
#include "operator/kube/resource.hpp"
#include "operator/kube/transport.hpp"
#include "operator/kube/watch_machine.hpp"
#include "operator/runtime/event_source.hpp"
#include "operator/runtime/informer_cache.hpp"
#include "operator/runtime/store.hpp"
#include "operator/util/random.hpp"

namespace cd4ml::runtime {

struct InformerOptions {
  std::string ns;  // "" = all namespaces
  std::string label_selector;
  kube::WatchMachineOptions watch;
  InformerObserver* observer = nullptr;
  // Applied to every object before it is stored; default drops
  // metadata.managedFields, which no controller here reads and which is often
  // the biggest part of an object.
  std::function<void(Json&)> transform;
  // Jitter for watch timeouts and backoff; default: seeded from random_device.
  util::Uniform01 random;
};

class Informer final : public EventSource {
 public:
  Informer(kube::Transport& transport, kube::ResourceType type, InformerOptions options);
  // Stops the loop; no handler runs once the destructor has returned.
  ~Informer() override;
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Handlers added before start() see every object as an add once synced;
  // handlers added later get the objects already stored replayed as adds.
  void add_handlers(EventHandlers handlers) override;
  Store& store();
  const kube::ResourceType& type() const { return type_; }

  // Starts the list+watch loop on the transport's io_context.
  void start();
  // Ends the loop; safe from any thread. No handler starts after it returns;
  // an open watch stream is closed on the io thread right after.
  void stop();
  // True once the first complete list has been stored and dispatched.
  bool has_synced() const;

 private:
  struct Loop;
  kube::ResourceType type_;
  std::shared_ptr<Loop> loop_;
};

}  // namespace cd4ml::runtime
