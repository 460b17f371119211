#include "operator/runtime/event_correlator.hpp"

#include <gtest/gtest.h>

namespace cd4ml::runtime {
namespace {

using namespace std::chrono_literals;
using Action = EventDecision::Action;

EventKey key(const std::string& uid, const std::string& message = "scaled to 3",
             const std::string& reason = "Scaled") {
  return {uid, "Normal", reason, message};
}

TEST(EventCorrelator, FirstOccurrenceCreatesThenRepeatsPatchTheSameEvent) {
  util::ManualClock clock;
  EventCorrelator correlator({}, clock);
  const auto first = correlator.correlate(key("uid-1"), "release-a");
  EXPECT_EQ(first.action, Action::Create);
  EXPECT_EQ(first.count, 1);
  EXPECT_EQ(first.name.rfind("release-a.", 0), 0u) << first.name;
  EXPECT_EQ(first.first_timestamp, clock.wall_now());

  clock.advance(30s);
  const auto second = correlator.correlate(key("uid-1"), "release-a");
  EXPECT_EQ(second.action, Action::Patch);
  EXPECT_EQ(second.name, first.name);
  EXPECT_EQ(second.count, 2);
  EXPECT_EQ(second.first_timestamp, first.first_timestamp);
  EXPECT_EQ(second.last_timestamp, clock.wall_now());

  EXPECT_EQ(correlator.correlate(key("uid-1"), "release-a").count, 3);
}

TEST(EventCorrelator, DifferentMessageReasonOrObjectIsADifferentEvent) {
  util::ManualClock clock;
  EventCorrelator correlator({}, clock);
  const auto base = correlator.correlate(key("uid-1"), "a");
  const auto other_message = correlator.correlate(key("uid-1", "scaled to 4"), "a");
  const auto other_reason = correlator.correlate(key("uid-1", "scaled to 3", "Other"), "a");
  const auto other_object = correlator.correlate(key("uid-2"), "b");
  for (const auto& decision : {other_message, other_reason, other_object}) {
    EXPECT_EQ(decision.action, Action::Create);
    EXPECT_NE(decision.name, base.name);
  }
}

TEST(EventCorrelator, AfterTheDedupeWindowANewEventIsCreated) {
  util::ManualClock clock;
  EventCorrelator correlator({}, clock);
  const auto first = correlator.correlate(key("uid-1"), "a");
  clock.advance(600s);  // exactly the window: still the same event
  EXPECT_EQ(correlator.correlate(key("uid-1"), "a").action, Action::Patch);
  clock.advance(600s + 1ns);
  const auto fresh = correlator.correlate(key("uid-1"), "a");
  EXPECT_EQ(fresh.action, Action::Create);
  EXPECT_EQ(fresh.count, 1);
  EXPECT_NE(fresh.name, first.name);
}

TEST(EventCorrelator, AHotLoopIsCutOffAfter25EventsPerObject) {
  util::ManualClock clock;
  EventCorrelator correlator({}, clock);
  int sent = 0;
  int dropped = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto decision = correlator.correlate(key("uid-hot", "attempt " + std::to_string(i)), "x");
    (decision.action == Action::Drop ? dropped : sent)++;
  }
  EXPECT_EQ(sent, 25);
  EXPECT_EQ(dropped, 975);
  // Another object is not affected by the hot one.
  EXPECT_EQ(correlator.correlate(key("uid-calm"), "y").action, Action::Create);

  // One more token every 5 minutes.
  clock.advance(299s);
  EXPECT_EQ(correlator.correlate(key("uid-hot", "again"), "x").action, Action::Drop);
  clock.advance(1s);
  EXPECT_EQ(correlator.correlate(key("uid-hot", "again"), "x").action, Action::Create);
  EXPECT_EQ(correlator.correlate(key("uid-hot", "again"), "x").action, Action::Drop);
}

TEST(EventCorrelator, RepeatsAlsoSpendTokens) {
  util::ManualClock clock;
  EventCorrelator correlator({}, clock);
  for (int i = 0; i < 25; ++i) {
    EXPECT_NE(correlator.correlate(key("uid-1"), "a").action, Action::Drop);
  }
  EXPECT_EQ(correlator.correlate(key("uid-1"), "a").action, Action::Drop);
}

TEST(EventCorrelator, NamesAreUniqueEvenWhenTheClockStandsStill) {
  util::ManualClock clock;
  EventCorrelator correlator({}, clock);
  std::set<std::string> names;
  for (int i = 0; i < 20; ++i) {
    names.insert(correlator.correlate(key("uid-" + std::to_string(i)), "obj").name);
  }
  EXPECT_EQ(names.size(), 20u);
}

TEST(EventCorrelator, MemoryIsBounded) {
  util::ManualClock clock;
  EventCorrelatorOptions options;
  options.max_tracked = 10;
  EventCorrelator correlator(options, clock);
  for (int i = 0; i < 100; ++i) correlator.correlate(key("uid-" + std::to_string(i)), "obj");
  EXPECT_EQ(correlator.tracked_objects(), 10u);
  EXPECT_EQ(correlator.tracked_events(), 10u);
  // The most recent one is still deduplicated.
  EXPECT_EQ(correlator.correlate(key("uid-99"), "obj").action, Action::Patch);
}

TEST(EventMessage, TruncatedTo1KiBOnACharacterBoundary) {
  EXPECT_EQ(truncate_event_message("short"), "short");
  const std::string exact(1024, 'x');
  EXPECT_EQ(truncate_event_message(exact), exact);
  EXPECT_EQ(truncate_event_message(exact + "y").size(), 1024u);
  // "é" is two bytes; placed across the limit it must not be cut in half.
  const std::string accented = std::string(1023, 'x') + "\xC3\xA9";
  const std::string cut = truncate_event_message(accented);
  EXPECT_EQ(cut, std::string(1023, 'x'));
}

TEST(EventJson, CreateBodyDescribesTheInvolvedObject) {
  util::ManualClock clock;
  EventCorrelator correlator({}, clock);
  const nlohmann::json release = {
      {"apiVersion", "cd4ml.io/v1alpha1"},
      {"kind", "ModelRelease"},
      {"metadata",
       {{"namespace", "ml"}, {"name", "r"}, {"uid", "u-1"}, {"resourceVersion", "12"}}}};
  const auto decision = correlator.correlate(key("u-1"), "r");
  const auto event = make_event(release, "Warning", "ProbeFailed", std::string(2000, 'm'), decision,
                                {"cd4ml-operator", "pod-1"});
  EXPECT_EQ(event["apiVersion"], "v1");
  EXPECT_EQ(event["kind"], "Event");
  EXPECT_EQ(event["metadata"]["name"], decision.name);
  EXPECT_EQ(event["metadata"]["namespace"], "ml");
  EXPECT_EQ(event["involvedObject"]["apiVersion"], "cd4ml.io/v1alpha1");
  EXPECT_EQ(event["involvedObject"]["kind"], "ModelRelease");
  EXPECT_EQ(event["involvedObject"]["namespace"], "ml");
  EXPECT_EQ(event["involvedObject"]["name"], "r");
  EXPECT_EQ(event["involvedObject"]["uid"], "u-1");
  EXPECT_EQ(event["involvedObject"]["resourceVersion"], "12");
  EXPECT_EQ(event["type"], "Warning");
  EXPECT_EQ(event["reason"], "ProbeFailed");
  EXPECT_EQ(event["message"].get<std::string>().size(), 1024u);
  EXPECT_EQ(event["count"], 1);
  EXPECT_EQ(event["firstTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(event["lastTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(event["source"]["component"], "cd4ml-operator");
  EXPECT_EQ(event["source"]["host"], "pod-1");
  EXPECT_EQ(event["reportingComponent"], "cd4ml-operator");
  EXPECT_EQ(event["reportingInstance"], "pod-1");

  clock.advance(90s);
  const auto patch = make_event_patch(correlator.correlate(key("u-1"), "r"), "scaled to 3");
  EXPECT_EQ(patch["count"], 2);
  EXPECT_EQ(patch["lastTimestamp"], "2023-11-14T22:14:50Z");
  EXPECT_EQ(patch["message"], "scaled to 3");
}

TEST(EventJson, ClusterScopedObjectsGetTheirEventsInDefault) {
  const nlohmann::json ns_object = {
      {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "ml"}, {"uid", "u"}}}};
  EXPECT_EQ(event_namespace(ns_object), "default");
  const auto event = make_event(ns_object, "Normal", "R", "m", EventDecision{}, {"c", "h"});
  EXPECT_FALSE(event["involvedObject"].contains("namespace"));
  EXPECT_EQ(event_namespace(nlohmann::json("garbage")), "default");
}

}  // namespace
}  // namespace cd4ml::runtime
