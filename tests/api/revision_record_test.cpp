#include "operator/api/revision_record.hpp"

#include <gtest/gtest.h>

#include "operator/api/conditions.hpp"

namespace cd4ml::api {
namespace {

// A record as the current version writes it, every field set.
Json written_record() {
  return Json::parse(R"({
    "revision": "3f9c0a71b2", "modelVersion": "aaa", "modelURI": "s3://models/churn/aaa",
    "trainingRun": "churn-2", "deployment": "churn-3f9c0a71b2", "state": "Inactive",
    "reason": "Replaced", "message": "replaced by revision 0123456789", "everActive": true,
    "createdAt": "2026-11-27T10:00:00Z", "progressingSince": "2026-11-27T10:00:00Z",
    "promotedAt": "2026-11-27T10:01:00Z", "scaleDownAt": "2026-11-27T10:05:31Z",
    "metrics": {"accuracy": 0.9, "auc": 1},
    "gates": [{"metric": "accuracy", "rule": "accuracy >= 0.5", "passed": true,
               "message": "accuracy 0.9 is within bounds"}]
  })");
}

TEST(RevisionRecord, ReadsEveryFieldTheOperatorWrites) {
  const RevisionRecord r = revision_record_from_json(written_record());
  EXPECT_EQ(r.revision, "3f9c0a71b2");
  EXPECT_EQ(r.training_run, "churn-2");
  EXPECT_EQ(r.state, RevisionState::Inactive);
  EXPECT_EQ(r.reason, "Replaced");
  EXPECT_TRUE(r.ever_active);
  ASSERT_TRUE(r.scale_down_at);
  EXPECT_EQ(rfc3339(*r.scale_down_at), "2026-11-27T10:05:31Z");
  EXPECT_EQ(r.numeric_metrics(), (std::map<std::string, double>{{"accuracy", 0.9}, {"auc", 1}}));
  EXPECT_TRUE(r.unknown.empty()) << r.unknown.dump();
}

TEST(RevisionRecord, WritesBackWhatItRead) {
  for (const char* state : {"Preview", "Active", "Inactive", "Rejected", "Aborted"}) {
    Json record = written_record();
    record["state"] = state;
    EXPECT_EQ(to_json(revision_record_from_json(record)), record) << state;
  }
  Json minimal = written_record();
  for (const char* key :
       {"trainingRun", "reason", "message", "everActive", "promotedAt", "scaleDownAt", "gates"}) {
    minimal.erase(key);
  }
  EXPECT_EQ(to_json(revision_record_from_json(minimal)), minimal);
}

// Written by another version, or by hand: kept, and written back as it was.
TEST(RevisionRecord, KeepsWhatItDoesNotModel) {
  Json record = written_record();
  record["state"] = "Canary";
  record["promotedAt"] = "2026-11-27T10:01:00.250Z";
  record["trafficWeight"] = 12.5;
  const RevisionRecord r = revision_record_from_json(record);
  EXPECT_EQ(r.state, RevisionState::Unknown);
  EXPECT_FALSE(r.promoted_at) << "a time of another form is not read";
  EXPECT_EQ(to_json(r), record);
}

TEST(RevisionRecord, WhatThePlannerSetsWinsOverWhatWasKept) {
  Json record = written_record();
  record["state"] = "Canary";
  RevisionRecord r = revision_record_from_json(record);
  r.state = RevisionState::Aborted;
  EXPECT_EQ(to_json(r)["state"], "Aborted");
  r.reason.clear();
  EXPECT_FALSE(to_json(r).contains("reason"));
}

}  // namespace
}  // namespace cd4ml::api
