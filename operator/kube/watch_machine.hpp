#pragma once
// The list+watch loop as an explicit state machine, free of I/O.
//
//   Empty --list first page--> InitPage(continue) --last page--> Watching(rv)
//     ^   (next(): ListPage "")     (next(): ListPage token)
//     |
//     +-- relist: 410 Gone/Expired on the watch, on a list page or on a
//         continue token; any other list error (after Backoff).
//
//   Watching(rv), next(): Watch{rv, randomized timeoutSeconds, idle timeout}:
//     event or bookmark                  -> rv advances; backoff reset
//     server closes the stream cleanly   -> re-watch from rv at once
//     idle timeout (no byte for timeout + margin, client side, http_status 0)
//                                        -> re-watch from rv at once
//     410 Gone / Expired                 -> relist (Empty)
//     429, 5xx, connection refused/reset, 401/403, anything else
//                                        -> Backoff -> re-watch from rv
//                                           (no relist: the cache is still valid)
//   Backoff, next(): Wait{delay}; on_wait_done() -> Empty or Watching.
//
// Fail fast once, then back off: a 410 (on watch or list) and a clean close
// that delivered nothing are normally benign, so the first one acts at once;
// if another failure of any kind comes before the watch makes progress
// (delivers an event/bookmark), the action goes through Backoff instead. That
// stops a tight loop against a server that answers every fresh list's watch
// with 410, or a proxy that closes every stream at once.
//
// Backoff delays are jittered exponential, 800 ms .. 30 s (max with the
// server's Retry-After when given), and reset when a watch makes progress. A
// successful list does not reset them: the watch right after it may still fail.
//
// next() has no side effects (calling it twice gives the same step; the watch
// timeout is drawn when the machine enters Watching). The driver (runtime
// informer) asks next(), does it, and reports the outcome with one on_* call.
// Reporting an outcome that cannot happen in the current state (an event while
// listing, a page while watching) throws std::logic_error: it is a driver bug.
//
// List pages: the driver accumulates items from the page whose ListPage had an
// empty continue token onwards, and replaces its cache when the last page
// arrives (on_list_page without continue token). Lists are consistent reads
// (resourceVersion unset), so the watch starts from a fresh snapshot.

#include <chrono>
#include <string>
#include <variant>

#include "operator/kube/errors.hpp"
#include "operator/util/backoff.hpp"
#include "operator/util/random.hpp"

namespace cd4ml::kube {

struct WatchMachineOptions {
  long page_size = 500;
  // Watch timeout asked of the server, randomized in [min, 2*min) like client-go.
  std::chrono::seconds min_watch_timeout{300};
  // Added to the server timeout to get the client's idle timeout.
  std::chrono::seconds idle_margin{30};
  util::ExponentialBackoff::Options backoff{};
};

class WatchMachine {
 public:
  enum class State { Empty, InitPage, Watching, Backoff };

  // What the driver must do next.
  struct ListPage {
    std::string continue_token;  // "" = first page: start collecting afresh
    long limit;                  // 0 = unpaged
  };
  struct Watch {
    std::string resource_version;
    int timeout_seconds;
    std::chrono::milliseconds idle_timeout;
  };
  struct Wait {
    std::chrono::milliseconds delay;
  };
  using Step = std::variant<ListPage, Watch, Wait>;

  // `random` draws the watch timeouts; the backoff jitter uses it too.
  WatchMachine(WatchMachineOptions options, util::Uniform01 random);

  Step next() const;

  // A list page arrived. No continue token = last page. A last page without a
  // resourceVersion cannot be watched from; it counts as a failed list.
  void on_list_page(const std::string& resource_version, const std::string& continue_token);
  void on_list_error(const ApiError& error);
  // An ADDED/MODIFIED/DELETED/BOOKMARK event with this resourceVersion.
  void on_event(const std::string& resource_version);
  // The server ended the stream cleanly.
  void on_watch_closed();
  // The watch failed: non-2xx response, ERROR event (see watch_error()),
  // transport error, or idle timeout (ApiError{Timeout} with http_status 0).
  void on_watch_error(const ApiError& error);
  // The Wait step's delay elapsed.
  void on_wait_done();

  State state() const { return state_; }
  const std::string& resource_version() const { return resource_version_; }
  // Counters the informer exports as metrics: lists started from scratch
  // after the first one, and watches restarted from a resourceVersion.
  long relists() const { return relists_; }
  long watch_restarts() const { return watch_restarts_; }

 private:
  void require_listing(const char* call) const;
  void require(State expected, const char* call) const;
  // A failure whose remedy is `after` (Empty = relist, Watching = re-watch).
  void fail(State after, bool fail_fast_allowed, std::chrono::milliseconds at_least = {});
  void go(State after);
  void enter_watching();
  void progress();

  WatchMachineOptions options_;
  util::Uniform01 random_;
  util::ExponentialBackoff backoff_;
  State state_ = State::Empty;
  State after_backoff_ = State::Empty;
  std::chrono::milliseconds pending_delay_{0};
  std::string continue_token_;
  std::string resource_version_;
  int watch_timeout_seconds_ = 0;
  // Events (incl. bookmarks) delivered by the current watch.
  long events_this_watch_ = 0;
  // Failures since the last progress; fail-fast actions need zero.
  int failures_since_progress_ = 0;
  long relists_ = 0;
  long watch_restarts_ = 0;
};

std::string_view to_string(WatchMachine::State state);

}  // namespace cd4ml::kube
