#include "operator/runtime/informer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <stdexcept>
#include <utility>  // before asio: Boost 1.74's awaitable.hpp misses it

#include "operator/kube/errors.hpp"
#include "operator/kube/line_splitter.hpp"
#include "operator/runtime/logging.hpp"

namespace cd4ml::runtime {

namespace asio = boost::asio;

// Requests are built in named locals, never as temporaries inside a co_await
// expression: GCC 12 destroys such temporaries twice.
//
// Everything the io-thread coroutine touches lives here, shared by the
// coroutine frame, so the Informer may go away while a stream is still open.
struct Informer::Loop {
  Loop(kube::Transport& t, kube::ResourceType resource_type, InformerOptions informer_options)
      : transport(t),
        type(std::move(resource_type)),
        options(std::move(informer_options)),
        cache(type.name(), options.transform, options.observer),
        machine(options.watch, options.random ? options.random : util::default_random()),
        wait_timer(t.io_context()),
        log(Logger({{"component", "informer"}, {"resource", type.name()}})) {}

  kube::Transport& transport;
  const kube::ResourceType type;
  const InformerOptions options;
  InformerCache cache;
  std::atomic<bool> started{false};

  // io thread only.
  kube::WatchMachine machine;
  asio::steady_timer wait_timer;
  std::shared_ptr<kube::StreamCancel> stream_cancel;  // of the open watch, if any
  long reported_relists = 0;
  long reported_restarts = 0;
  Logger log;

  void report_counters() {
    if (!options.observer) return;
    for (; reported_relists < machine.relists(); ++reported_relists) {
      options.observer->on_relist(type.name());
    }
    for (; reported_restarts < machine.watch_restarts(); ++reported_restarts) {
      options.observer->on_watch_restart(type.name());
    }
  }

  static asio::awaitable<void> run(std::shared_ptr<Loop> self) {
    try {
      while (!self->cache.stopped()) {
        const auto step = self->machine.next();
        if (const auto* page = std::get_if<kube::WatchMachine::ListPage>(&step)) {
          co_await self->list_page(*page);
        } else if (const auto* watch = std::get_if<kube::WatchMachine::Watch>(&step)) {
          co_await self->watch(*watch);
        } else if (const auto* wait = std::get_if<kube::WatchMachine::Wait>(&step)) {
          self->wait_timer.expires_after(wait->delay);
          boost::system::error_code ec;
          co_await self->wait_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          if (self->cache.stopped()) break;
          self->machine.on_wait_done();
        }
        self->report_counters();
      }
    } catch (const std::exception& e) {
      // A bug (the machine refused an impossible transition): say so loudly.
      // The cache stops updating; readiness stays as it was.
      self->log.error("informer loop failed", {{"error", e.what()}});
    }
    self->log.debug("informer stopped");
  }

  asio::awaitable<void> list_page(const kube::WatchMachine::ListPage& page) {
    kube::ListOptions list_options;
    list_options.label_selector = options.label_selector;
    list_options.limit = page.limit;
    list_options.continue_token = page.continue_token;
    kube::HttpRequest request = kube::requests::list(type, options.ns, list_options);
    kube::ListResult result;
    std::optional<kube::ApiError> failure;
    try {
      const auto response = co_await transport.request(std::move(request));
      result = kube::decode_list(response);
    } catch (const kube::ApiError& error) {
      failure = error;
    }
    if (cache.stopped()) co_return;
    if (failure) {
      log.warn("list failed", {{"error", failure->what()}});
      cache.abandon_list();
      machine.on_list_error(*failure);
      co_return;
    }
    cache.add_list_page(std::move(result.items), page.continue_token.empty());
    machine.on_list_page(result.resource_version, result.continue_token);
    if (machine.state() != kube::WatchMachine::State::Watching) co_return;  // more pages

    const bool first = !cache.synced();
    const auto delta = cache.finish_list();
    log.info(first ? "cache synced" : "relisted",
             {{"objects", std::to_string(cache.store().size())},
              {"resource_version", result.resource_version},
              {"added", std::to_string(delta.added.size())},
              {"updated", std::to_string(delta.updated.size())},
              {"deleted", std::to_string(delta.deleted.size())}});
  }

  asio::awaitable<void> watch(const kube::WatchMachine::Watch& step) {
    kube::WatchOptions watch_options;
    watch_options.label_selector = options.label_selector;
    watch_options.resource_version = step.resource_version;
    watch_options.allow_bookmarks = true;
    watch_options.timeout_seconds = step.timeout_seconds;
    watch_options.idle_timeout = step.idle_timeout;
    kube::HttpRequest request = kube::requests::watch(type, options.ns, watch_options);

    kube::LineSplitter splitter;
    std::optional<kube::ApiError> failure;
    kube::StreamHandler handler;
    handler.cancel = stream_cancel = std::make_shared<kube::StreamCancel>();
    handler.on_data = [this, &splitter, &failure](std::string_view data) {
      // After an error the rest of the stream is ignored; the server closes it.
      if (failure || cache.stopped()) return;
      try {
        splitter.feed(data, [this, &failure](std::string_view line) {
          if (failure) return;
          auto outcome = cache.apply_line(line);
          if (outcome.error) {
            failure = std::move(outcome.error);
          } else if (outcome.resource_version) {
            machine.on_event(*outcome.resource_version);
          }
        });
      } catch (const kube::LineTooLong& e) {
        failure = kube::ApiError(kube::ErrorKind::Other, 0, "", e.what());
      }
    };
    handler.on_error_body = [&failure](const kube::HttpResponse& response) {
      // With its Retry-After: a 429 paces the next watch as the server asks.
      failure = kube::error_from_response(response.status, response.body, response.retry_after);
    };
    try {
      co_await transport.stream(std::move(request), std::move(handler));
    } catch (const kube::ApiError& error) {
      if (!failure) failure = error;
    }
    if (cache.stopped()) co_return;
    if (failure) {
      log.info("watch ended with an error",
               {{"error", failure->what()}, {"resource_version", machine.resource_version()}});
      machine.on_watch_error(*failure);
    } else {
      log.debug("watch closed by the server", {{"resource_version", machine.resource_version()}});
      machine.on_watch_closed();
    }
  }
};

Informer::Informer(kube::Transport& transport, kube::ResourceType type, InformerOptions options)
    : type_(type), loop_(std::make_shared<Loop>(transport, std::move(type), std::move(options))) {}

Informer::~Informer() {
  stop();
}

void Informer::add_handlers(EventHandlers handlers) {
  loop_->cache.add_handlers(std::move(handlers));
}

Store& Informer::store() {
  return loop_->cache.store();
}

bool Informer::has_synced() const {
  return loop_->cache.synced();
}

void Informer::start() {
  if (loop_->started.exchange(true)) throw std::logic_error("informer started twice");
  asio::co_spawn(loop_->transport.io_context(), Loop::run(loop_), asio::detached);
}

void Informer::stop() {
  if (loop_->cache.stopped()) return;
  loop_->cache.stop();
  // The timer and the open watch are io-thread objects: end them there.
  asio::post(loop_->transport.io_context(), [loop = loop_] {
    loop->wait_timer.cancel();
    if (loop->stream_cancel) loop->stream_cancel->cancel();
  });
}

}  // namespace cd4ml::runtime
