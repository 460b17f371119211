#include "operator/runtime/event_recorder.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <utility>  // before asio: Boost 1.74's awaitable.hpp misses it

#include "operator/kube/errors.hpp"
#include "operator/kube/requests.hpp"
#include "operator/kube/resource.hpp"
#include "operator/runtime/logging.hpp"

namespace cd4ml::runtime {

namespace asio = boost::asio;

namespace {

// What the sender must do for one recorded event, decided at record() time.
struct PendingEvent {
  EventDecision decision;
  std::string ns;
  nlohmann::json event;  // the full Event: for Create, and for a Patch that finds it gone
  nlohmann::json patch;  // Patch only
};

}  // namespace

// Requests are built in named locals, never as temporaries inside a co_await
// expression: GCC 12 destroys such temporaries twice.

struct EventRecorder::Impl {
  Impl(kube::Transport& t, EventRecorderOptions recorder_options, const util::Clock& c)
      : transport(t),
        options(std::move(recorder_options)),
        correlator({options.burst, options.refill_interval, options.dedupe_window}, c),
        reporter{options.component, options.host} {}

  kube::Transport& transport;
  const EventRecorderOptions options;
  Logger log{{{"component", "event-recorder"}}};

  mutable std::mutex mutex;
  std::condition_variable idle_cv;
  EventCorrelator correlator;
  const EventReporter reporter;
  std::deque<PendingEvent> pending;
  bool sending = false;  // a sender coroutine is running
  long created = 0;
  long updated = 0;
  long dropped = 0;

  void count(long Impl::*counter) {
    std::lock_guard lock(mutex);
    ++(this->*counter);
  }

  void dropped_after_error(const PendingEvent& item, const std::string& error) {
    // Events are best effort: never retried, so a down API cannot pile them up.
    log.warn("event dropped", {{"event", item.decision.name}, {"error", error}});
    count(&Impl::dropped);
  }

  static std::string describe(const kube::HttpResponse& response) {
    return kube::error_from_response(response.status, response.body).what();
  }

  // Sends one event and counts the outcome. Errors are turned into values
  // here rather than thrown across co_await (simpler for GCC 12's coroutines).
  asio::awaitable<void> send(const PendingEvent& item) {
    kube::HttpResponse response;
    if (item.decision.action == EventDecision::Action::Patch) {
      kube::HttpRequest patch =
          kube::requests::patch(kube::resources::kEvents, item.ns, item.decision.name,
                                kube::PatchType::Merge, item.patch.dump(), kube::PatchOptions{});
      std::string failure;
      try {
        response = co_await transport.request(std::move(patch));
      } catch (const std::exception& e) {
        failure = e.what();
      }
      if (!failure.empty()) {
        dropped_after_error(item, failure);
        co_return;
      }
      if (response.status >= 200 && response.status <= 299) {
        count(&Impl::updated);
        co_return;
      }
      if (response.status != 404) {
        dropped_after_error(item, describe(response));
        co_return;
      }
      // Gone (events expire after an hour): create it again, count and all.
    }
    kube::HttpRequest create =
        kube::requests::create(kube::resources::kEvents, item.ns, item.event, kube::WriteOptions{});
    std::string failure;
    try {
      response = co_await transport.request(std::move(create));
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) {
      dropped_after_error(item, failure);
    } else if (response.status < 200 || response.status > 299) {
      dropped_after_error(item, describe(response));
    } else {
      count(&Impl::created);
    }
  }

  static asio::awaitable<void> sender(std::shared_ptr<Impl> self) {
    for (;;) {
      PendingEvent item;
      {
        std::lock_guard lock(self->mutex);
        if (self->pending.empty()) {
          self->sending = false;
          self->idle_cv.notify_all();
          co_return;
        }
        item = std::move(self->pending.front());
        self->pending.pop_front();
      }
      // One at a time, in order: a patch must not overtake the create of its Event.
      co_await self->send(item);
      {
        // Counted as done only now, so flush() waits for the request itself.
        std::lock_guard lock(self->mutex);
        self->idle_cv.notify_all();
      }
    }
  }
};

EventRecorder::EventRecorder(kube::Transport& transport, EventRecorderOptions options,
                             const util::Clock& clock)
    : impl_(std::make_shared<Impl>(transport, std::move(options), clock)) {}

EventRecorder::~EventRecorder() = default;

void EventRecorder::record(const nlohmann::json& object, std::string_view type,
                           std::string_view reason, std::string_view message) {
  if (!object.is_object()) throw std::invalid_argument("EventRecorder::record needs an object");
  const auto metadata = object.find("metadata");
  auto meta = [&metadata, &object](const char* key) -> std::string {
    if (metadata == object.end() || !metadata->is_object()) return {};
    const auto it = metadata->find(key);
    return it != metadata->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string name = meta("name");
  // Without a uid the object is not from the API (yet): key it by name instead.
  const std::string uid = meta("uid").empty() ? meta("namespace") + "/" + name : meta("uid");
  const std::string truncated = truncate_event_message(message);

  bool start_sender = false;
  {
    std::lock_guard lock(impl_->mutex);
    PendingEvent item;
    item.decision =
        impl_->correlator.correlate({uid, std::string(type), std::string(reason), truncated}, name);
    if (item.decision.action == EventDecision::Action::Drop) {
      ++impl_->dropped;
      return;
    }
    if (impl_->pending.size() >= impl_->options.max_pending) {
      ++impl_->dropped;
      return;
    }
    item.ns = event_namespace(object);
    item.event = make_event(object, type, reason, truncated, item.decision, impl_->reporter);
    if (item.decision.action == EventDecision::Action::Patch) {
      item.patch = make_event_patch(item.decision, truncated);
    }
    impl_->pending.push_back(std::move(item));
    if (!impl_->sending) {
      impl_->sending = true;
      start_sender = true;
    }
  }
  if (start_sender) {
    asio::co_spawn(impl_->transport.io_context(), Impl::sender(impl_), asio::detached);
  }
}

long EventRecorder::created() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->created;
}

long EventRecorder::updated() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->updated;
}

long EventRecorder::dropped() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->dropped;
}

bool EventRecorder::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  return impl_->idle_cv.wait_for(lock, timeout,
                                 [this] { return impl_->pending.empty() && !impl_->sending; });
}

}  // namespace cd4ml::runtime
