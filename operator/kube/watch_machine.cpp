#include "operator/kube/watch_machine.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cd4ml::kube {

WatchMachine::WatchMachine(WatchMachineOptions options, util::Uniform01 random)
    : options_(options), random_(std::move(random)), backoff_(options_.backoff, random_) {
  if (options_.min_watch_timeout < std::chrono::seconds(1)) {
    throw std::invalid_argument("min_watch_timeout must be at least one second");
  }
  if (options_.idle_margin < std::chrono::seconds(0)) {
    throw std::invalid_argument("idle_margin must not be negative");
  }
}

WatchMachine::Step WatchMachine::next() const {
  switch (state_) {
    case State::Empty: return ListPage{"", options_.page_size};
    case State::InitPage: return ListPage{continue_token_, options_.page_size};
    case State::Watching: {
      const std::chrono::milliseconds idle =
          std::chrono::seconds(watch_timeout_seconds_) + options_.idle_margin;
      return Watch{resource_version_, watch_timeout_seconds_, idle};
    }
    case State::Backoff: return Wait{pending_delay_};
  }
  throw std::logic_error("WatchMachine in an unknown state");
}

void WatchMachine::on_list_page(const std::string& resource_version,
                                const std::string& continue_token) {
  require_listing("on_list_page");
  if (!continue_token.empty()) {
    continue_token_ = continue_token;
    state_ = State::InitPage;
    return;
  }
  if (resource_version.empty()) {
    // Nothing to watch from; a watch without resourceVersion would replay
    // every object as ADDED and mislead the cache.
    fail(State::Empty, /*fail_fast_allowed=*/false);
    return;
  }
  resource_version_ = resource_version;
  continue_token_.clear();
  enter_watching();
}

void WatchMachine::on_list_error(const ApiError& error) {
  require_listing("on_list_error");
  // 410 on a continue token: the list's snapshot was compacted away; the pages
  // collected so far are useless, so start over from the first page.
  fail(State::Empty, is_gone(error), error.retry_after().value_or(std::chrono::seconds(0)));
}

void WatchMachine::on_event(const std::string& resource_version) {
  require(State::Watching, "on_event");
  if (!resource_version.empty()) {
    resource_version_ = resource_version;
  }
  ++events_this_watch_;
  progress();
}

void WatchMachine::on_watch_closed() {
  require(State::Watching, "on_watch_closed");
  if (events_this_watch_ > 0) {
    // The normal end of a watch: the server's timeoutSeconds ran out.
    ++watch_restarts_;
    enter_watching();
    return;
  }
  fail(State::Watching, /*fail_fast_allowed=*/true);
}

void WatchMachine::on_watch_error(const ApiError& error) {
  require(State::Watching, "on_watch_error");
  if (is_gone(error)) {
    fail(State::Empty, /*fail_fast_allowed=*/true);
    return;
  }
  if (error.kind() == ErrorKind::Timeout && error.http_status() == 0) {
    // Our idle timeout: the stream went silent (a stalled connection or proxy).
    // Each attempt already took the whole idle timeout, so no backoff needed.
    ++watch_restarts_;
    enter_watching();
    return;
  }
  fail(State::Watching, /*fail_fast_allowed=*/false,
       error.retry_after().value_or(std::chrono::seconds(0)));
}

void WatchMachine::on_wait_done() {
  require(State::Backoff, "on_wait_done");
  go(after_backoff_);
}

void WatchMachine::require_listing(const char* call) const {
  if (state_ != State::Empty && state_ != State::InitPage) {
    throw std::logic_error(std::string("WatchMachine::") + call + " in state " +
                           std::string(to_string(state_)));
  }
}

void WatchMachine::require(State expected, const char* call) const {
  if (state_ != expected) {
    throw std::logic_error(std::string("WatchMachine::") + call + " in state " +
                           std::string(to_string(state_)) + ", expected " +
                           std::string(to_string(expected)));
  }
}

void WatchMachine::fail(State after, bool fail_fast_allowed, std::chrono::milliseconds at_least) {
  const bool at_once = fail_fast_allowed && failures_since_progress_ == 0;
  ++failures_since_progress_;
  if (after == State::Empty) {
    ++relists_;
    continue_token_.clear();
  } else {
    ++watch_restarts_;
  }
  if (at_once) {
    go(after);
    return;
  }
  pending_delay_ = std::max(backoff_.next(), at_least);
  after_backoff_ = after;
  state_ = State::Backoff;
}

void WatchMachine::go(State after) {
  if (after == State::Watching) {
    enter_watching();
  } else {
    state_ = State::Empty;
  }
}

void WatchMachine::enter_watching() {
  // Spread the watches of many informers (and many operators) over time so
  // they do not all reconnect together, as client-go does.
  const long min = options_.min_watch_timeout.count();
  const double r = std::clamp(random_(), 0.0, 1.0);
  const long extra = std::min(static_cast<long>(std::floor(r * static_cast<double>(min))), min - 1);
  watch_timeout_seconds_ = static_cast<int>(min + extra);
  events_this_watch_ = 0;
  state_ = State::Watching;
}

void WatchMachine::progress() {
  failures_since_progress_ = 0;
  backoff_.reset();
}

std::string_view to_string(WatchMachine::State state) {
  switch (state) {
    case WatchMachine::State::Empty: return "Empty";
    case WatchMachine::State::InitPage: return "InitPage";
    case WatchMachine::State::Watching: return "Watching";
    case WatchMachine::State::Backoff: return "Backoff";
  }
  return "Unknown";
}

}  // namespace cd4ml::kube
