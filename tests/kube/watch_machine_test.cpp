#include "operator/kube/watch_machine.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace cd4ml::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using State = WatchMachine::State;

// "list(<continue>)", "watch(<rv>)" or "wait(<ms>)": enough to compare steps
// in tables; the watch timeouts are checked by their own tests.
std::string describe(const WatchMachine::Step& step) {
  if (const auto* list = std::get_if<WatchMachine::ListPage>(&step)) {
    return "list(" + list->continue_token + ")";
  }
  if (const auto* watch = std::get_if<WatchMachine::Watch>(&step)) {
    return "watch(" + watch->resource_version + ")";
  }
  return "wait(" + std::to_string(std::get<WatchMachine::Wait>(step).delay.count()) + ")";
}

ApiError gone() {
  return ApiError(ErrorKind::Gone, 410, "Expired", "too old resource version");
}
ApiError too_many(std::optional<seconds> retry_after = std::nullopt) {
  return ApiError(ErrorKind::TooManyRequests, 429, "TooManyRequests", "slow down", retry_after);
}
ApiError refused() {
  return ApiError(ErrorKind::Transport, 0, "", "connection refused");
}
ApiError unavailable() {
  return ApiError(ErrorKind::ServerError, 503, "", "apiserver restarting");
}
ApiError idle_timeout() {
  return ApiError(ErrorKind::Timeout, 0, "", "no data for 480s");
}
ApiError gateway_timeout() {
  return ApiError(ErrorKind::Timeout, 504, "Timeout", "gateway");
}
ApiError forbidden() {
  return ApiError(ErrorKind::Forbidden, 403, "Forbidden", "rbac");
}

using Action = std::function<void(WatchMachine&)>;
Action page(std::string rv, std::string next) {
  return [=](WatchMachine& m) { m.on_list_page(rv, next); };
}
Action list_error(ApiError e) {
  return [=](WatchMachine& m) { m.on_list_error(e); };
}
Action event(std::string rv) {
  return [=](WatchMachine& m) { m.on_event(rv); };
}
Action closed() {
  return [](WatchMachine& m) { m.on_watch_closed(); };
}
Action watch_error(ApiError e) {
  return [=](WatchMachine& m) { m.on_watch_error(e); };
}
Action waited() {
  return [](WatchMachine& m) { m.on_wait_done(); };
}

struct Transition {
  Action action;
  std::string expected_next;
};

struct Scenario {
  const char* name;
  std::vector<Transition> transitions;
  long relists;
  long watch_restarts;
};

// Random fixed at 0.5: no jitter (factor 1.0), so backoff delays are exactly
// 800, 1600, ... ms and watch timeouts are 450 s.
WatchMachine machine() {
  return WatchMachine(WatchMachineOptions{}, [] { return 0.5; });
}

// Every scenario starts from a synced watch at resourceVersion 100 unless it
// says otherwise.
std::vector<Transition> synced(std::vector<Transition> rest) {
  std::vector<Transition> all = {{page("100", ""), "watch(100)"}};
  all.insert(all.end(), rest.begin(), rest.end());
  return all;
}

class WatchMachineScenario : public ::testing::TestWithParam<Scenario> {};

TEST_P(WatchMachineScenario, StepsAndCounters) {
  const auto& scenario = GetParam();
  auto m = machine();
  ASSERT_EQ(describe(m.next()), "list()");
  for (std::size_t i = 0; i < scenario.transitions.size(); ++i) {
    scenario.transitions[i].action(m);
    EXPECT_EQ(describe(m.next()), scenario.transitions[i].expected_next) << "after step " << i;
  }
  EXPECT_EQ(m.relists(), scenario.relists);
  EXPECT_EQ(m.watch_restarts(), scenario.watch_restarts);
}

INSTANTIATE_TEST_SUITE_P(
    WatchMachine, WatchMachineScenario,
    ::testing::Values(
        Scenario{"InitialPagedList",
                 {{page("", "c1"), "list(c1)"},
                  {page("", "c2"), "list(c2)"},
                  {page("100", ""), "watch(100)"}},
                 0,
                 0},
        Scenario{"EventsAndBookmarksAdvanceTheResourceVersion",
                 synced({{event("101"), "watch(101)"},
                         {event("150"), "watch(150)"},
                         {event(""), "watch(150)"}}),
                 0, 0},
        Scenario{"CleanCloseReWatchesAtOnceFromTheLastVersion",
                 synced({{event("120"), "watch(120)"}, {closed(), "watch(120)"}}), 0, 1},
        Scenario{"GoneDuringWatchRelistsAtOnce",
                 synced({{event("130"), "watch(130)"},
                         {watch_error(gone()), "list()"},
                         {page("", "c1"), "list(c1)"},
                         {page("900", ""), "watch(900)"}}),
                 1, 0},
        Scenario{"GoneOnContinueTokenRestartsTheListFromScratch",
                 {{page("", "c1"), "list(c1)"},
                  {list_error(gone()), "list()"},
                  {page("", "d1"), "list(d1)"},
                  {page("200", ""), "watch(200)"}},
                 1,
                 0},
        Scenario{"TooManyRequestsBacksOffAndReWatchesTheSameVersion",
                 synced({{event("140"), "watch(140)"},
                         {watch_error(too_many()), "wait(800)"},
                         {waited(), "watch(140)"}}),
                 0, 1},
        Scenario{
            "RetryAfterLongerThanTheBackoffIsHonoured",
            synced({{watch_error(too_many(seconds(5))), "wait(5000)"}, {waited(), "watch(100)"}}),
            0, 1},
        Scenario{"ConnectionRefusedBacksOffWithoutRelist",
                 synced({{watch_error(refused()), "wait(800)"},
                         {waited(), "watch(100)"},
                         {watch_error(refused()), "wait(1600)"},
                         {waited(), "watch(100)"}}),
                 0, 2},
        Scenario{"ServerErrorsAndForbiddenBackOffWithoutRelist",
                 synced({{watch_error(unavailable()), "wait(800)"},
                         {waited(), "watch(100)"},
                         {watch_error(forbidden()), "wait(1600)"},
                         {waited(), "watch(100)"},
                         {watch_error(gateway_timeout()), "wait(3200)"},
                         {waited(), "watch(100)"}}),
                 0, 3},
        Scenario{"IdleTimeoutReWatchesAtOnce",
                 synced({{watch_error(idle_timeout()), "watch(100)"},
                         {watch_error(idle_timeout()), "watch(100)"}}),
                 0, 2},
        Scenario{"ProgressResetsTheBackoff",
                 synced({{watch_error(refused()), "wait(800)"},
                         {waited(), "watch(100)"},
                         {watch_error(refused()), "wait(1600)"},
                         {waited(), "watch(100)"},
                         {event("101"), "watch(101)"},
                         {closed(), "watch(101)"},
                         {watch_error(refused()), "wait(800)"}}),
                 0, 4},
        Scenario{"RepeatedGoneWithoutProgressBacksOff",
                 synced({{watch_error(gone()), "list()"},
                         {page("300", ""), "watch(300)"},
                         {watch_error(gone()), "wait(800)"},
                         {waited(), "list()"},
                         {page("400", ""), "watch(400)"},
                         {watch_error(gone()), "wait(1600)"},
                         {waited(), "list()"},
                         {page("500", ""), "watch(500)"},
                         {event("501"), "watch(501)"},
                         {watch_error(gone()), "list()"}}),
                 4, 0},
        Scenario{"GoneAfterOtherFailuresBacksOff",
                 synced({{watch_error(refused()), "wait(800)"},
                         {waited(), "watch(100)"},
                         {watch_error(gone()), "wait(1600)"},
                         {waited(), "list()"}}),
                 1, 1},
        Scenario{"EmptyCleanCloseIsFreeOnceThenBacksOff",
                 synced({{closed(), "watch(100)"},
                         {closed(), "wait(800)"},
                         {waited(), "watch(100)"},
                         {closed(), "wait(1600)"},
                         {waited(), "watch(100)"},
                         {event("101"), "watch(101)"},
                         {closed(), "watch(101)"},
                         {closed(), "watch(101)"}}),
                 0, 5},
        Scenario{"ListErrorBacksOffAndRestartsFromTheFirstPage",
                 {{page("", "c1"), "list(c1)"},
                  {list_error(unavailable()), "wait(800)"},
                  {waited(), "list()"},
                  {list_error(refused()), "wait(1600)"},
                  {waited(), "list()"},
                  {page("100", ""), "watch(100)"}},
                 2,
                 0},
        Scenario{"ListThrottledHonoursRetryAfter",
                 {{list_error(too_many(seconds(3))), "wait(3000)"}, {waited(), "list()"}},
                 1,
                 0},
        Scenario{"LastPageWithoutResourceVersionCountsAsAFailedList",
                 {{page("", ""), "wait(800)"}, {waited(), "list()"}, {page("7", ""), "watch(7)"}},
                 1,
                 0}),
    [](const auto& case_info) { return std::string(case_info.param.name); });

TEST(WatchMachine, BackoffGrowsFrom800MsTo30SecondsAndResetsAfterSuccess) {
  auto m = machine();
  m.on_list_page("100", "");
  std::vector<long> delays;
  for (int i = 0; i < 9; ++i) {
    m.on_watch_error(refused());
    delays.push_back(std::get<WatchMachine::Wait>(m.next()).delay.count());
    m.on_wait_done();
  }
  EXPECT_EQ(delays, (std::vector<long>{800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000}));
  EXPECT_EQ(m.resource_version(), "100");
  EXPECT_EQ(m.relists(), 0);

  m.on_event("101");
  m.on_watch_error(refused());
  EXPECT_EQ(std::get<WatchMachine::Wait>(m.next()).delay, milliseconds(800));
}

TEST(WatchMachine, BackoffIsJitteredByTheInjectedRandomness) {
  double r = 0.0;
  WatchMachine m(WatchMachineOptions{}, [&] { return r; });
  m.on_list_page("1", "");
  m.on_watch_error(refused());
  EXPECT_EQ(std::get<WatchMachine::Wait>(m.next()).delay, milliseconds(640));  // 800 * 0.8
  m.on_wait_done();
  r = 0.75;
  m.on_watch_error(refused());
  EXPECT_EQ(std::get<WatchMachine::Wait>(m.next()).delay, milliseconds(1760));  // 1600 * 1.1
}

TEST(WatchMachine, WatchTimeoutIsRandomizedInMinToTwiceMin) {
  struct Case {
    double random;
    int timeout_seconds;
  };
  const Case cases[] = {{0.0, 300}, {0.5, 450}, {0.999999, 599}, {1.0, 599}, {-0.5, 300}};
  for (const auto& c : cases) {
    WatchMachine m(WatchMachineOptions{}, [&] { return c.random; });
    m.on_list_page("1", "");
    const auto watch = std::get<WatchMachine::Watch>(m.next());
    EXPECT_EQ(watch.timeout_seconds, c.timeout_seconds) << "random " << c.random;
    // Idle timeout = server timeout + margin, so a healthy stream ends by the
    // server's close, never by our timer.
    EXPECT_EQ(watch.idle_timeout, seconds(c.timeout_seconds + 30)) << "random " << c.random;
  }
}

TEST(WatchMachine, EachWatchDrawsANewTimeoutAndNextHasNoSideEffects) {
  std::vector<double> values = {0.1, 0.9};
  std::size_t calls = 0;
  WatchMachineOptions options;
  options.min_watch_timeout = seconds(100);
  options.idle_margin = seconds(5);
  WatchMachine m(options, [&] { return values[calls++ % values.size()]; });
  m.on_list_page("1", "");
  const auto first = std::get<WatchMachine::Watch>(m.next());
  EXPECT_EQ(first.timeout_seconds, 110);
  EXPECT_EQ(first.idle_timeout, seconds(115));
  // Asking again does not draw again.
  EXPECT_EQ(std::get<WatchMachine::Watch>(m.next()).timeout_seconds, 110);
  m.on_event("2");
  m.on_watch_closed();
  EXPECT_EQ(std::get<WatchMachine::Watch>(m.next()).timeout_seconds, 190);
}

TEST(WatchMachine, PageSizeIsPassedOn) {
  WatchMachineOptions options;
  options.page_size = 42;
  WatchMachine m(options, [] { return 0.5; });
  EXPECT_EQ(std::get<WatchMachine::ListPage>(m.next()).limit, 42);
  m.on_list_page("", "c");
  EXPECT_EQ(std::get<WatchMachine::ListPage>(m.next()).limit, 42);
}

TEST(WatchMachine, StatesAreVisible) {
  auto m = machine();
  EXPECT_EQ(m.state(), State::Empty);
  m.on_list_page("", "c");
  EXPECT_EQ(m.state(), State::InitPage);
  m.on_list_page("5", "");
  EXPECT_EQ(m.state(), State::Watching);
  m.on_watch_error(refused());
  EXPECT_EQ(m.state(), State::Backoff);
  EXPECT_EQ(to_string(m.state()), "Backoff");
}

TEST(WatchMachine, OutcomesThatCannotHappenInTheStateAreDriverBugs) {
  auto m = machine();
  EXPECT_THROW(m.on_event("1"), std::logic_error);
  EXPECT_THROW(m.on_watch_closed(), std::logic_error);
  EXPECT_THROW(m.on_watch_error(refused()), std::logic_error);
  EXPECT_THROW(m.on_wait_done(), std::logic_error);
  m.on_list_page("1", "");
  EXPECT_THROW(m.on_list_page("2", ""), std::logic_error);
  EXPECT_THROW(m.on_list_error(refused()), std::logic_error);
  EXPECT_THROW(m.on_wait_done(), std::logic_error);
  m.on_watch_error(refused());
  EXPECT_THROW(m.on_event("2"), std::logic_error);
  EXPECT_THROW(m.on_watch_closed(), std::logic_error);
  // The machine is unchanged by the rejected calls.
  EXPECT_EQ(m.state(), State::Backoff);
  EXPECT_EQ(m.resource_version(), "1");
}

TEST(WatchMachine, NonsensicalOptionsAreRejected) {
  WatchMachineOptions zero;
  zero.min_watch_timeout = seconds(0);
  EXPECT_THROW(WatchMachine(zero, [] { return 0.5; }), std::invalid_argument);
}

}  // namespace
}  // namespace cd4ml::kube
