#include "traffic_prober.hpp"

// <utility> first: Boost 1.74's asio/awaitable.hpp uses std::exchange without it.
#include <utility>
//
#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace cd4ml::e2e {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using std::chrono::system_clock;

struct TrafficProber::State {
  Options options;
  asio::io_context io;
  asio::steady_timer schedule{io};
  bool stopping = false;  // io thread only
  mutable std::mutex mutex;
  mutable std::condition_variable answered;
  std::map<std::uint64_t, ProbeSample> done;  // by sequence number: send order
  std::thread thread;

  void record(std::uint64_t seq, ProbeSample sample) {
    {
      const std::lock_guard lock(mutex);
      done.emplace(seq, std::move(sample));
    }
    answered.notify_all();
  }
};

namespace {

asio::awaitable<void> probe_once(std::shared_ptr<TrafficProber::State> state, std::uint64_t seq) {
  const auto& o = state->options;
  ProbeSample sample;
  sample.sent = system_clock::now();
  const auto started = std::chrono::steady_clock::now();
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(o.timeout);
  const char* phase = "connect";
  try {
    co_await stream.async_connect(
        tcp::endpoint(asio::ip::make_address_v4(o.host), static_cast<unsigned short>(o.port)),
        asio::use_awaitable);
    phase = "request";
    http::request<http::empty_body> request{http::verb::get, o.path, 11};
    request.set(http::field::host, o.host);
    request.set(http::field::connection, "close");
    co_await http::async_write(stream, request, asio::use_awaitable);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, asio::use_awaitable);
    sample.status = static_cast<int>(response.result_int());
    sample.revision = std::string(response["X-Cd4ml-Revision"]);
    if (sample.status != 200) {
      // Who answered, for the test's message: the server header and the body's start.
      sample.error = "HTTP " + std::to_string(sample.status) + " from '" +
                     std::string(response[http::field::server]) +
                     "': " + response.body().substr(0, 80);
    }
  } catch (const boost::system::system_error& e) {
    sample.error = std::string(phase) + ": " +
                   (e.code() == beast::error::timeout ? "timeout" : e.code().message());
    {
      beast::error_code ec;
      const auto local = stream.socket().local_endpoint(ec);
      if (!ec) sample.error += " (local port " + std::to_string(local.port()) + ")";
    }
  }
  sample.latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  state->record(seq, std::move(sample));
}

asio::awaitable<void> send_on_schedule(std::shared_ptr<TrafficProber::State> state) {
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / state->options.rate));
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t seq = 0; !state->stopping; ++seq) {
    asio::co_spawn(state->io, probe_once(state, seq), asio::detached);
    state->schedule.expires_at(start + interval * static_cast<long>(seq + 1));
    boost::system::error_code ec;
    co_await state->schedule.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace

TrafficProber::TrafficProber(Options options) : state_(std::make_shared<State>()) {
  state_->options = std::move(options);
  asio::co_spawn(state_->io, send_on_schedule(state_), asio::detached);
  state_->thread = std::thread([state = state_] { state->io.run(); });
}

TrafficProber::~TrafficProber() {
  stop();
}

void TrafficProber::stop() {
  if (!state_->thread.joinable()) return;
  // The schedule stops; requests in flight end by their own timeout, after
  // which run() has no work left and returns.
  asio::post(state_->io, [state = state_] {
    state->stopping = true;
    state->schedule.cancel();
  });
  state_->thread.join();
}

std::vector<ProbeSample> TrafficProber::samples() const {
  const std::lock_guard lock(state_->mutex);
  std::vector<ProbeSample> out;
  out.reserve(state_->done.size());
  for (const auto& [seq, sample] : state_->done) out.push_back(sample);
  return out;
}

std::vector<ProbeSample> TrafficProber::samples_between(system_clock::time_point from,
                                                        system_clock::time_point to) const {
  std::vector<ProbeSample> out;
  for (auto& s : samples()) {
    if (s.sent >= from && s.sent < to) out.push_back(std::move(s));
  }
  return out;
}

bool TrafficProber::wait_for_answer_after(system_clock::time_point after,
                                          std::chrono::milliseconds deadline) const {
  std::unique_lock lock(state_->mutex);
  return state_->answered.wait_for(lock, deadline, [&] {
    return std::any_of(state_->done.begin(), state_->done.end(),
                       [&](const auto& entry) { return entry.second.sent > after; });
  });
}

bool TrafficProber::wait_for_success(std::chrono::milliseconds deadline) const {
  std::unique_lock lock(state_->mutex);
  return state_->answered.wait_for(lock, deadline, [&] {
    return std::any_of(state_->done.begin(), state_->done.end(),
                       [](const auto& entry) { return entry.second.ok(); });
  });
}

std::vector<ProbeSample> TrafficProber::measured() const {
  auto all = samples();
  const auto first = std::find_if(all.begin(), all.end(), [](const auto& s) { return s.ok(); });
  return {first, all.end()};
}

ProbeSummary summarize(const std::vector<ProbeSample>& samples) {
  ProbeSummary out;
  out.requests = samples.size();
  std::vector<double> latencies;
  for (const auto& s : samples) {
    if (!s.ok()) {
      ++out.failures;
      if (out.failure_examples.size() < 5) out.failure_examples.push_back(s.error);
      continue;
    }
    latencies.push_back(static_cast<double>(s.latency.count()) / 1000.0);
  }
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    const auto at = [&](double q) {
      return latencies[std::min(
          latencies.size() - 1,
          static_cast<std::size_t>(q * static_cast<double>(latencies.size())))];
    };
    out.p50_ms = at(0.50);
    out.p99_ms = at(0.99);
  }
  return out;
}

std::string ProbeSummary::describe() const {
  std::ostringstream s;
  s << requests << " requests, " << failures << " failed";
  if (!failure_examples.empty()) {
    s << " (e.g.";
    for (const auto& e : failure_examples) s << " '" << e << "'";
    s << ")";
  }
  s << ", latency p50 " << p50_ms << " ms, p99 " << p99_ms << " ms";
  return s.str();
}

std::vector<std::pair<std::string, std::size_t>> answers_by_revision(
    const std::vector<ProbeSample>& samples) {
  std::map<std::string, std::size_t> counts;
  for (const auto& s : samples) {
    if (s.ok()) ++counts[s.revision];
  }
  return {counts.begin(), counts.end()};
}

}  // namespace cd4ml::e2e
