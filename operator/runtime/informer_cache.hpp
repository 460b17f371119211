#pragma once
// The informer's cache half, free of I/O: it applies listed objects and watch
// lines to a Store and tells the handlers what changed. The Informer's loop
// feeds it from the network; tests feed it by hand.
//
// Thread safety: one thread (the io thread) feeds it; add_handlers(), stop()
// and the Store's readers may be used from any thread. Once stop() returns no
// handler is running or will run.

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/kube/errors.hpp"
#include "operator/runtime/event_source.hpp"
#include "operator/runtime/store.hpp"

namespace cd4ml::runtime {

// Hook for watch metrics; the manager connects it to Prometheus.
class InformerObserver {
 public:
  virtual ~InformerObserver() = default;
  virtual void on_relist(const std::string& resource) = 0;
  virtual void on_watch_restart(const std::string& resource) = 0;
  virtual void on_event(const std::string& resource, std::string_view type) = 0;
};

// Removes metadata.managedFields (the informer's default transform).
void drop_managed_fields(Json& object);

class InformerCache {
 public:
  // `resource` names the type in metrics; `transform` (default
  // drop_managed_fields) is applied to every object before it is stored.
  InformerCache(std::string resource, std::function<void(Json&)> transform,
                InformerObserver* observer);

  Store& store() { return store_; }
  // Handlers added after the first list see the objects already stored as adds.
  void add_handlers(EventHandlers handlers);
  void stop();
  bool stopped() const;
  // True once a complete list has been stored and dispatched.
  bool synced() const { return synced_.load(); }

  // Collects one page of a list; the first page starts a new list.
  void add_list_page(std::vector<Json> items, bool first_page);
  // The list is complete: the store becomes exactly what was listed, and the
  // handlers see the differences (adds, updates by resourceVersion, deletes).
  Store::ReplaceDelta finish_list();
  // The list failed part-way: forget its pages.
  void abandon_list() { listed_.clear(); }

  struct LineOutcome {
    // Set when the watch must end: an ERROR event or a malformed line.
    std::optional<kube::ApiError> error;
    // Set for every event that moves the watch forward (incl. BOOKMARK).
    std::optional<std::string> resource_version;
  };
  // Applies one line of a watch stream.
  LineOutcome apply_line(std::string_view line);

 private:
  ObjectPtr prepare(Json object) const;

  const std::string resource_;
  const std::function<void(Json&)> transform_;
  InformerObserver* const observer_;
  Store store_;
  std::atomic<bool> synced_{false};
  std::vector<ObjectPtr> listed_;  // feeding thread only

  // Held while a change is applied and dispatched, and by stop(); recursive
  // so a handler may itself call stop() or add_handlers().
  mutable std::recursive_mutex dispatch_mutex_;
  std::vector<EventHandlers> handlers_;
  bool stopped_ = false;
};

}  // namespace cd4ml::runtime
