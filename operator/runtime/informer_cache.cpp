#include "operator/runtime/informer_cache.hpp"

#include <stdexcept>

#include "operator/kube/watch_event.hpp"

namespace cd4ml::runtime {

void drop_managed_fields(Json& object) {
  if (!object.is_object()) return;
  const auto metadata = object.find("metadata");
  if (metadata != object.end() && metadata->is_object()) metadata->erase("managedFields");
}

InformerCache::InformerCache(std::string resource, std::function<void(Json&)> transform,
                             InformerObserver* observer)
    : resource_(std::move(resource)),
      transform_(transform ? std::move(transform) : drop_managed_fields),
      observer_(observer) {}

void InformerCache::add_handlers(EventHandlers handlers) {
  std::lock_guard lock(dispatch_mutex_);
  if (stopped_) return;
  // A late handler catches up with what is stored, then follows the changes.
  if (synced_ && handlers.on_add) {
    for (const auto& object : store_.list()) handlers.on_add(object);
  }
  handlers_.push_back(std::move(handlers));
}

void InformerCache::stop() {
  std::lock_guard lock(dispatch_mutex_);
  stopped_ = true;
}

bool InformerCache::stopped() const {
  std::lock_guard lock(dispatch_mutex_);
  return stopped_;
}

ObjectPtr InformerCache::prepare(Json object) const {
  transform_(object);
  return std::make_shared<const Json>(std::move(object));
}

void InformerCache::add_list_page(std::vector<Json> items, bool first_page) {
  if (first_page) listed_.clear();
  for (auto& item : items) listed_.push_back(prepare(std::move(item)));
}

Store::ReplaceDelta InformerCache::finish_list() {
  std::lock_guard lock(dispatch_mutex_);
  if (stopped_) {
    listed_.clear();
    return {};
  }
  auto delta = store_.replace(std::move(listed_));
  listed_.clear();
  for (const auto& h : handlers_) {
    if (h.on_add) {
      for (const auto& object : delta.added) h.on_add(object);
    }
    if (h.on_update) {
      for (const auto& [old_object, object] : delta.updated) h.on_update(old_object, object);
    }
    if (h.on_delete) {
      for (const auto& object : delta.deleted) h.on_delete(object);
    }
  }
  synced_ = true;
  return delta;
}

InformerCache::LineOutcome InformerCache::apply_line(std::string_view line) {
  LineOutcome outcome;
  kube::WatchEvent event;
  try {
    event = kube::parse_watch_event(line);
  } catch (const std::invalid_argument& e) {
    outcome.error = kube::ApiError(kube::ErrorKind::Other, 0, "",
                                   std::string("malformed watch event: ") + e.what());
    return outcome;
  }
  if (observer_) observer_->on_event(resource_, kube::to_string(event.type));
  using Type = kube::WatchEvent::Type;
  if (event.type == Type::Error) {
    outcome.error = kube::watch_error(event);
    return outcome;
  }
  outcome.resource_version = event.resource_version();
  if (event.type == Type::Bookmark) return outcome;

  std::lock_guard lock(dispatch_mutex_);
  if (stopped_) return outcome;
  const ObjectPtr object = prepare(std::move(event.object));
  if (event.type == Type::Deleted) {
    // Handlers get the final state the server sent, not our older copy.
    store_.erase(object_key(*object));
    for (const auto& h : handlers_) {
      if (h.on_delete) h.on_delete(object);
    }
    return outcome;
  }
  // ADDED for an object we already hold (a re-watch replaying) is an update.
  const ObjectPtr previous = store_.upsert(object);
  for (const auto& h : handlers_) {
    if (previous) {
      if (h.on_update) h.on_update(previous, object);
    } else if (h.on_add) {
      h.on_add(object);
    }
  }
  return outcome;
}

}  // namespace cd4ml::runtime
