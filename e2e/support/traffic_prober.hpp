#pragma once
// A steady stream of HTTP GETs to one address (a Service's ClusterIP through
// kube-proxy, from the host), recording for every request when it was sent,
// how long it took, how it ended and which revision answered (the serving
// image's X-Cd4ml-Revision header). Each request opens its own connection,
// so kube-proxy picks an endpoint per request, as it would for many clients.
//
// Requests are sent on a fixed schedule (rate per second) whatever the
// answers do, so a slow or dead backend shows up as failures, never as a
// quieter stream.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cd4ml::e2e {

struct ProbeSample {
  std::chrono::system_clock::time_point sent;
  std::chrono::microseconds latency{0};
  int status = 0;        // HTTP status; 0 when no answer came
  std::string error;     // why it failed ("" for an HTTP 200)
  std::string revision;  // X-Cd4ml-Revision of the answer
  bool ok() const { return error.empty(); }
};

struct ProbeSummary {
  std::size_t requests = 0;
  std::size_t failures = 0;
  std::vector<std::string> failure_examples;  // a few, for messages
  double p50_ms = 0;
  double p99_ms = 0;
  std::string describe() const;
};

class TrafficProber {
 public:
  struct Options {
    std::string host;  // an IPv4 address
    int port = 80;
    std::string path = "/";
    double rate = 50;  // requests per second
    std::chrono::milliseconds timeout{2000};
  };

  explicit TrafficProber(Options options);
  ~TrafficProber();
  TrafficProber(const TrafficProber&) = delete;
  TrafficProber& operator=(const TrafficProber&) = delete;

  // Stops sending and waits for the requests in flight (bounded by timeout).
  void stop();
  // Every finished request so far, in the order they were sent.
  std::vector<ProbeSample> samples() const;
  // Finished requests sent in [from, to).
  std::vector<ProbeSample> samples_between(std::chrono::system_clock::time_point from,
                                           std::chrono::system_clock::time_point to =
                                               std::chrono::system_clock::time_point::max()) const;
  // Waits until a request sent after `after` was answered (true) or the
  // deadline passes (false).
  bool wait_for_answer_after(std::chrono::system_clock::time_point after,
                             std::chrono::milliseconds deadline) const;
  // Waits for the first request answered with HTTP 200: until kube-proxy has
  // rules for a new Service, its IP answers nothing.
  bool wait_for_success(std::chrono::milliseconds deadline) const;
  // The requests from the first successful one on: what a test measures.
  std::vector<ProbeSample> measured() const;

  // The io thread's side, shared with the requests in flight (defined in the .cpp).
  struct State;

 private:
  std::shared_ptr<State> state_;
};

ProbeSummary summarize(const std::vector<ProbeSample>& samples);
// How many answered requests each revision served.
std::vector<std::pair<std::string, std::size_t>> answers_by_revision(
    const std::vector<ProbeSample>& samples);

}  // namespace cd4ml::e2e
