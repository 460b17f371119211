// LeaderElector: runs LeaseDecider's rules against the API server, on the
// transport's io thread with steady timers.

#include "operator/runtime/leader_election.hpp"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <future>
#include <utility>  // before asio: Boost 1.74's awaitable.hpp misses it

#include "operator/kube/errors.hpp"
#include "operator/kube/requests.hpp"
#include "operator/kube/resource.hpp"
#include "operator/runtime/logging.hpp"
#include "operator/util/random.hpp"

namespace cd4ml::runtime {

namespace asio = boost::asio;

std::string default_identity() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "cd4ml-operator");
  }
  const auto random = util::default_random();
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08llx",
                static_cast<unsigned long long>(random() * 4294967296.0));
  return std::string(host) + "_" + suffix;
}

// Requests are built in named locals, never as temporaries inside a co_await
// expression: GCC 12 destroys such temporaries twice (a default-argument
// WriteOptions crashed with a double free; -Wmismatched-new-delete warned).

struct LeaderElector::Loop {
  Loop(kube::Transport& t, LeaderElectionOptions election, LeaderCallbacks cb, const util::Clock& c)
      : transport(t),
        options(std::move(election)),
        callbacks(std::move(cb)),
        clock(c),
        decider(options, c),
        retry_timer(t.io_context()),
        deadline_timer(t.io_context()),
        log(Logger({{"component", "leader-election"},
                    {"lease", options.lease_namespace + "/" + options.lease_name},
                    {"identity", options.identity}})) {}

  kube::Transport& transport;
  const LeaderElectionOptions options;
  const LeaderCallbacks callbacks;
  const util::Clock& clock;

  // Set from any thread; release_requested is set before stop_requested.
  std::atomic<bool> leader{false};
  std::atomic<bool> started{false};
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> release_requested{false};
  // Cleared by ~LeaderElector: the callbacks' targets may be gone after that.
  std::atomic<bool> callbacks_enabled{true};
  std::promise<void> finished;
  std::shared_future<void> finished_future{finished.get_future().share()};

  // io thread only.
  LeaseDecider decider;
  asio::steady_timer retry_timer;
  asio::steady_timer deadline_timer;
  nlohmann::json last_lease;  // the Lease as last read or written (null: absent)
  std::string last_holder;
  bool lost = false;
  Logger log;

  kube::HttpRequest with_timeout(kube::HttpRequest request) const {
    // A hung request must not outlast the renew deadline (the watchdog steps
    // down on time anyway; this just frees the loop).
    request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.renew_deadline);
    return request;
  }

  void notice_holder(const std::string& holder) {
    if (holder.empty() || holder == last_holder) return;
    last_holder = holder;
    log.info("leader observed", {{"leader", holder}});
    if (callbacks_enabled && callbacks.on_new_leader) callbacks.on_new_leader(holder);
  }

  void lose(const std::string& why) {
    if (!leader.exchange(false)) return;
    lost = true;
    log.error("leadership lost", {{"reason", why}});
    retry_timer.cancel();
    deadline_timer.cancel();
    if (callbacks_enabled && callbacks.on_stopped_leading) callbacks.on_stopped_leading();
  }

  // Reads the Lease into the decider. False when the read failed.
  asio::awaitable<bool> read_lease() {
    kube::HttpResponse response;
    try {
      kube::HttpRequest request = with_timeout(kube::requests::get(
          kube::resources::kLeases, options.lease_namespace, options.lease_name));
      response = co_await transport.request(std::move(request));
    } catch (const kube::ApiError& error) {
      log.warn("cannot read the lease", {{"error", error.what()}});
      co_return false;
    }
    if (response.status == 404) {
      last_lease = nullptr;
      decider.observe(std::nullopt);
      co_return true;
    }
    try {
      last_lease = kube::decode(response);
    } catch (const kube::ApiError& error) {
      log.warn("cannot read the lease", {{"error", error.what()}});
      co_return false;
    }
    const LeaseRecord record = lease_record_from_json(last_lease);
    decider.observe(record);
    notice_holder(record.holder);
    co_return true;
  }

  // Writes `record` (create when the lease is absent, else update with its
  // resourceVersion). Returns the HTTP status, 0 when no response arrived.
  asio::awaitable<int> write_lease(const LeaseRecord& record) {
    const nlohmann::json body =
        lease_json(last_lease, record, options.lease_namespace, options.lease_name);
    kube::HttpRequest request =
        with_timeout(last_lease.is_null() ? kube::requests::create(kube::resources::kLeases,
                                                                   options.lease_namespace, body)
                                          : kube::requests::update(kube::resources::kLeases, body));
    kube::HttpResponse response;
    try {
      response = co_await transport.request(std::move(request));
    } catch (const kube::ApiError& error) {
      log.warn("cannot write the lease", {{"error", error.what()}});
      co_return 0;
    }
    if (response.status < 200 || response.status > 299) {
      const auto error = kube::error_from_response(response.status, response.body);
      // 409: someone wrote first (another candidate, or our stale view); the
      // next read shows who.
      if (response.status == 409) {
        log.debug("lease write conflict", {{"error", error.what()}});
      } else {
        log.warn("cannot write the lease", {{"error", error.what()}});
      }
      co_return response.status;
    }
    try {
      last_lease = kube::decode(response);
    } catch (const kube::ApiError& error) {
      log.warn("unreadable lease write response", {{"error", error.what()}});
      co_return 0;
    }
    decider.on_written(lease_record_from_json(last_lease));
    co_return response.status;
  }

  // One round of client-go's tryAcquireOrRenew. Returns true when a write hit
  // a conflict, so the caller re-reads at once instead of waiting.
  asio::awaitable<bool> try_acquire_or_renew(const std::shared_ptr<Loop>& self) {
    if (!co_await read_lease()) co_return false;
    if (stop_requested) co_return false;
    if (leader && !decider.is_leader()) {
      lose("the lease was taken by " + last_holder);
      co_return false;
    }
    if (!decider.can_acquire()) co_return false;
    const LeaseRecord desired = decider.desired_record(clock.wall_now());
    const int status = co_await write_lease(desired);
    if (status >= 200 && status <= 299 && decider.is_leader()) {
      notice_holder(options.identity);
      if (!leader.exchange(true)) {
        log.info("acquired the lease");
        asio::co_spawn(transport.io_context(), watchdog(self), asio::detached);
        if (callbacks_enabled && callbacks.on_started_leading && !stop_requested) {
          callbacks.on_started_leading();
        }
      }
    }
    co_return status == 409;
  }

  // Steps down as soon as the renew deadline passes without a renewal, even if
  // the renewing request itself hangs.
  static asio::awaitable<void> watchdog(std::shared_ptr<Loop> self) {
    while (self->leader && !self->stop_requested) {
      if (self->decider.renew_deadline_passed()) {
        self->lose("renew deadline passed");
        co_return;
      }
      self->deadline_timer.expires_after(self->decider.renew_deadline_at() - self->clock.now());
      boost::system::error_code ec;
      co_await self->deadline_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::awaitable<void> release() {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const LeaseRecord released = decider.release_record(clock.wall_now());
      const int status = co_await write_lease(released);
      if (status >= 200 && status <= 299) {
        log.info("released the lease");
        co_return;
      }
      if (status != 409) break;
      // Our copy was stale: re-read, and release only if it is still ours.
      if (!co_await read_lease() || !decider.is_leader()) break;
    }
    log.warn("could not release the lease; a successor waits for it to expire");
  }

  static asio::awaitable<void> run(std::shared_ptr<Loop> self) {
    try {
      bool reread_now = false;
      while (!self->stop_requested && !self->lost) {
        const bool conflict = co_await self->try_acquire_or_renew(self);
        if (self->stop_requested || self->lost) break;
        if (self->leader && self->decider.renew_deadline_passed()) {
          self->lose("renew deadline passed");
          break;
        }
        // One immediate re-read after a conflict; a second one waits, so two
        // candidates cannot spin against each other.
        if (conflict && !reread_now) {
          reread_now = true;
          continue;
        }
        reread_now = false;
        self->retry_timer.expires_after(self->options.retry_period);
        boost::system::error_code ec;
        co_await self->retry_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      if (self->stop_requested && self->release_requested && self->leader &&
          self->decider.is_leader()) {
        co_await self->release();
      }
    } catch (const std::exception& e) {
      self->log.error("leader election loop failed", {{"error", e.what()}});
      self->lose(std::string("leader election failed: ") + e.what());
    }
    self->leader = false;
    self->deadline_timer.cancel();
    self->finished.set_value();
  }
};

LeaderElector::LeaderElector(kube::Transport& transport, LeaderElectionOptions options,
                             LeaderCallbacks callbacks, const util::Clock& clock)
    : loop_(std::make_shared<Loop>(transport, std::move(options), std::move(callbacks), clock)) {}

LeaderElector::~LeaderElector() {
  loop_->callbacks_enabled = false;
  loop_->stop_requested = true;
  asio::post(loop_->transport.io_context(), [loop = loop_] {
    loop->retry_timer.cancel();
    loop->deadline_timer.cancel();
  });
}

void LeaderElector::start() {
  if (loop_->started.exchange(true)) throw std::logic_error("leader elector started twice");
  loop_->log.info("campaigning for the lease");
  asio::co_spawn(loop_->transport.io_context(), Loop::run(loop_), asio::detached);
}

void LeaderElector::stop_and_release(std::chrono::milliseconds timeout) {
  loop_->release_requested = true;
  loop_->stop_requested = true;
  if (!loop_->started) return;
  asio::post(loop_->transport.io_context(), [loop = loop_] {
    loop->retry_timer.cancel();
    loop->deadline_timer.cancel();
  });
  // On the io thread we would wait on ourselves: the release still happens.
  if (loop_->transport.io_context().get_executor().running_in_this_thread()) return;
  if (loop_->finished_future.wait_for(timeout) != std::future_status::ready) {
    loop_->log.warn("lease release did not finish in time");
  }
}

bool LeaderElector::is_leader() const {
  return loop_->leader.load();
}

}  // namespace cd4ml::runtime
