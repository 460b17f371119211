#include <gtest/gtest.h>

#include "operator/runtime/leader_election.hpp"

namespace cd4ml::runtime {
namespace {

using namespace std::chrono_literals;

LeaderElectionOptions options(const std::string& identity = "me") {
  LeaderElectionOptions result;
  result.lease_namespace = "cd4ml-system";
  result.lease_name = "cd4ml-operator-leader";
  result.identity = identity;
  return result;  // 15 s lease, 10 s renew deadline, 2 s retry
}

LeaseRecord held_by(const std::string& holder, const std::string& renew_time,
                    const std::string& rv = "100", int transitions = 3) {
  LeaseRecord record;
  record.holder = holder;
  record.lease_duration_seconds = 15;
  record.acquire_time = "2026-11-27T09:00:00.000000Z";
  record.renew_time = renew_time;
  record.lease_transitions = transitions;
  record.resource_version = rv;
  return record;
}

const auto kWallNow = std::chrono::system_clock::time_point{std::chrono::seconds(1'800'000'000)};

// The candidate "me" deciding on a manual clock.
class LeaseDeciderTest : public ::testing::Test {
 protected:
  util::ManualClock clock_;
  LeaseDecider decider_{options(), clock_};
};

TEST_F(LeaseDeciderTest, NothingObservedYetMeansNoAcquire) {
  EXPECT_FALSE(decider_.can_acquire());
  EXPECT_FALSE(decider_.is_leader());
}

TEST_F(LeaseDeciderTest, AbsentLeaseIsAcquiredWithACreate) {
  decider_.observe(std::nullopt);
  ASSERT_TRUE(decider_.can_acquire());
  const LeaseRecord record = decider_.desired_record(kWallNow);
  EXPECT_EQ(record.holder, "me");
  EXPECT_EQ(record.lease_duration_seconds, 15);
  EXPECT_EQ(record.resource_version, "");  // nothing to update: create
  EXPECT_EQ(record.lease_transitions, 0);
  EXPECT_EQ(record.acquire_time, record.renew_time);
  EXPECT_EQ(record.renew_time, "2027-01-15T08:00:00.000000Z");

  LeaseRecord written = record;
  written.resource_version = "1";
  decider_.on_written(written);
  EXPECT_TRUE(decider_.is_leader());
}

TEST_F(LeaseDeciderTest, ValidLeaseOfAnotherHolderIsRespectedForTheFullDuration) {
  decider_.observe(held_by("other", "2026-11-27T10:00:00.000000Z"));
  EXPECT_FALSE(decider_.can_acquire());
  clock_.advance(14s);
  decider_.observe(held_by("other", "2026-11-27T10:00:00.000000Z"));  // unchanged
  EXPECT_FALSE(decider_.can_acquire());
  clock_.advance(999ms);
  EXPECT_FALSE(decider_.can_acquire());
  clock_.advance(1ms);  // 15 s of local observation without a change
  EXPECT_TRUE(decider_.can_acquire());
}

TEST_F(LeaseDeciderTest, ARenewalByTheHolderRestartsTheWindow) {
  decider_.observe(held_by("other", "2026-11-27T10:00:00.000000Z", "100"));
  clock_.advance(10s);
  decider_.observe(held_by("other", "2026-11-27T10:00:10.000000Z", "101"));
  clock_.advance(10s);  // 20 s since first seen, 10 s since the renewal
  EXPECT_FALSE(decider_.can_acquire());
  clock_.advance(5s);
  EXPECT_TRUE(decider_.can_acquire());
}

TEST_F(LeaseDeciderTest, ClockSkewOfTheRemoteRenewTimeDoesNotMatter) {
  // A renewTime far in the past (holder's clock behind) is not "expired" ...
  decider_.observe(held_by("other", "1999-01-01T00:00:00.000000Z"));
  EXPECT_FALSE(decider_.can_acquire());
  clock_.advance(15s);
  EXPECT_TRUE(decider_.can_acquire());
  // ... and one far in the future (holder's clock ahead) does not hold forever.
  LeaseDecider fresh_candidate(options(), clock_);
  fresh_candidate.observe(held_by("other", "2099-01-01T00:00:00.000000Z"));
  clock_.advance(14s);
  EXPECT_FALSE(fresh_candidate.can_acquire());
  clock_.advance(1s);
  EXPECT_TRUE(fresh_candidate.can_acquire());
}

TEST_F(LeaseDeciderTest, TheHoldersDeclaredDurationCounts) {
  LeaseRecord record = held_by("other", "2026-11-27T10:00:00.000000Z");
  record.lease_duration_seconds = 60;
  decider_.observe(record);
  clock_.advance(59s);
  EXPECT_FALSE(decider_.can_acquire());
  clock_.advance(1s);
  EXPECT_TRUE(decider_.can_acquire());
}

TEST_F(LeaseDeciderTest, TakeoverIncrementsTransitionsAndCarriesTheResourceVersion) {
  decider_.observe(held_by("other", "2026-11-27T10:00:00.000000Z", "777", 3));
  clock_.advance(15s);
  ASSERT_TRUE(decider_.can_acquire());
  const LeaseRecord record = decider_.desired_record(kWallNow);
  EXPECT_EQ(record.holder, "me");
  EXPECT_EQ(record.lease_transitions, 4);
  EXPECT_EQ(record.resource_version, "777");
  EXPECT_EQ(record.acquire_time, record.renew_time);  // a new term starts now
}

TEST_F(LeaseDeciderTest, ReleasedLeaseCanBeTakenAtOnce) {
  LeaseRecord released = held_by("", "2026-11-27T10:00:00.000000Z", "900", 5);
  released.lease_duration_seconds = 1;
  decider_.observe(released);
  EXPECT_TRUE(decider_.can_acquire());
  EXPECT_EQ(decider_.desired_record(kWallNow).lease_transitions, 6);
}

TEST_F(LeaseDeciderTest, RenewalKeepsAcquireTimeAndTransitions) {
  LeaseRecord mine = held_by("me", "2026-11-27T10:00:00.000000Z", "50", 7);
  decider_.on_written(mine);
  ASSERT_TRUE(decider_.is_leader());
  clock_.advance(2s);
  decider_.observe(mine);
  ASSERT_TRUE(decider_.can_acquire());
  const LeaseRecord renewal = decider_.desired_record(kWallNow);
  EXPECT_EQ(renewal.acquire_time, "2026-11-27T09:00:00.000000Z");
  EXPECT_EQ(renewal.lease_transitions, 7);
  EXPECT_EQ(renewal.resource_version, "50");
  EXPECT_NE(renewal.renew_time, mine.renew_time);
}

TEST_F(LeaseDeciderTest, LeaderStepsDownWhenTheRenewDeadlinePasses) {
  decider_.on_written(held_by("me", "2026-11-27T10:00:00.000000Z"));
  EXPECT_EQ(decider_.renew_deadline_at(), clock_.now() + 10s);
  clock_.advance(8s);
  EXPECT_FALSE(decider_.renew_deadline_passed());
  decider_.on_written(held_by("me", "2026-11-27T10:00:08.000000Z"));  // renewed at 8 s
  clock_.advance(9s);
  EXPECT_FALSE(decider_.renew_deadline_passed());
  clock_.advance(1s);  // 10 s after the last renewal
  EXPECT_TRUE(decider_.renew_deadline_passed());
  // Well before the 15 s after which another candidate may take over.
  EXPECT_LT(decider_.options().renew_deadline, decider_.options().lease_duration);
}

TEST_F(LeaseDeciderTest, ANonLeaderHasNoRenewDeadline) {
  decider_.observe(held_by("other", "2026-11-27T10:00:00.000000Z"));
  clock_.advance(1h);
  EXPECT_FALSE(decider_.renew_deadline_passed());
}

TEST_F(LeaseDeciderTest, SeeingAnotherHolderEndsLeadershipAtOnce) {
  decider_.on_written(held_by("me", "2026-11-27T10:00:00.000000Z"));
  ASSERT_TRUE(decider_.is_leader());
  decider_.observe(held_by("usurper", "2026-11-27T10:00:01.000000Z"));
  EXPECT_FALSE(decider_.is_leader());
  EXPECT_FALSE(decider_.can_acquire());
}

TEST_F(LeaseDeciderTest, ReleaseRecordEmptiesTheHolderWithAOneSecondLease) {
  decider_.on_written(held_by("me", "2026-11-27T10:00:00.000000Z", "60", 2));
  const LeaseRecord release = decider_.release_record(kWallNow);
  EXPECT_EQ(release.holder, "");
  EXPECT_EQ(release.lease_duration_seconds, 1);
  EXPECT_EQ(release.lease_transitions, 2);
  EXPECT_EQ(release.resource_version, "60");
  decider_.on_written(release);
  EXPECT_FALSE(decider_.is_leader());
}

TEST_F(LeaseDeciderTest, RejectsARenewDeadlineNotShorterThanTheLease) {
  auto bad = options();
  bad.renew_deadline = 15s;
  EXPECT_THROW(LeaseDecider(bad, clock_), std::invalid_argument);
  EXPECT_THROW(LeaseDecider(options(""), clock_), std::invalid_argument);
}

TEST(LeaseJson, RoundTripKeepsOtherFields) {
  const nlohmann::json server = nlohmann::json::parse(R"({
    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
    "metadata": {"name": "l", "namespace": "ns", "resourceVersion": "42",
                 "labels": {"team": "ml"}, "managedFields": [{"manager": "x"}]},
    "spec": {"holderIdentity": "other", "leaseDurationSeconds": 15,
             "acquireTime": "2026-11-27T09:00:00.000000Z",
             "renewTime": "2026-11-27T10:00:00.000000Z", "leaseTransitions": 3,
             "strategy": "OldestEmulationVersion"}})");
  const LeaseRecord record = lease_record_from_json(server);
  EXPECT_EQ(record.holder, "other");
  EXPECT_EQ(record.lease_duration_seconds, 15);
  EXPECT_EQ(record.acquire_time, "2026-11-27T09:00:00.000000Z");
  EXPECT_EQ(record.renew_time, "2026-11-27T10:00:00.000000Z");
  EXPECT_EQ(record.lease_transitions, 3);
  EXPECT_EQ(record.resource_version, "42");

  LeaseRecord mine = record;
  mine.holder = "me";
  mine.lease_transitions = 4;
  const nlohmann::json written = lease_json(server, mine, "ns", "l");
  EXPECT_EQ(written["spec"]["holderIdentity"], "me");
  EXPECT_EQ(written["spec"]["leaseTransitions"], 4);
  EXPECT_EQ(written["spec"]["strategy"], "OldestEmulationVersion");
  EXPECT_EQ(written["metadata"]["labels"]["team"], "ml");
  EXPECT_EQ(written["metadata"]["resourceVersion"], "42");
  EXPECT_FALSE(written["metadata"].contains("managedFields"));
}

TEST(LeaseJson, FreshLeaseAndMissingOrNullFields) {
  LeaseRecord record;
  record.holder = "me";
  record.lease_duration_seconds = 15;
  record.renew_time = "2026-11-27T10:00:00.000000Z";
  const nlohmann::json fresh = lease_json(nullptr, record, "ns", "l");
  EXPECT_EQ(fresh["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(fresh["kind"], "Lease");
  EXPECT_EQ(fresh["metadata"]["name"], "l");
  EXPECT_EQ(fresh["metadata"]["namespace"], "ns");
  EXPECT_FALSE(fresh["metadata"].contains("resourceVersion"));
  EXPECT_FALSE(fresh["spec"].contains("acquireTime"));

  const LeaseRecord parsed = lease_record_from_json(
      nlohmann::json::parse(R"({"metadata": {}, "spec": {"holderIdentity": null}})"));
  EXPECT_EQ(parsed.holder, "");
  EXPECT_EQ(parsed.lease_duration_seconds, 0);
  EXPECT_EQ(lease_record_from_json(nlohmann::json::parse("{}")).holder, "");
}

}  // namespace
}  // namespace cd4ml::runtime
