#pragma once
// Something that reports object changes to handlers: an Informer in
// production, a hand-driven fake in controller tests.

#include <functional>

#include "operator/runtime/store.hpp"

namespace cd4ml::runtime {

struct EventHandlers {
  std::function<void(const ObjectPtr& object)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  std::function<void(const ObjectPtr& object)> on_delete;
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  // Handlers added before the source starts see every object as an add.
  virtual void add_handlers(EventHandlers handlers) = 0;
};

}  // namespace cd4ml::runtime
