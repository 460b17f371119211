#include "operator/api/trainingrun.hpp"

#include <gtest/gtest.h>

#include "operator/api/canonical.hpp"

namespace cd4ml::api {
namespace {

Json sample_spec() {
  return Json::parse(R"({
    "model": "churn",
    "code": {"repository": "https://git.example/ml.git", "revision": "4f2a9c1"},
    "data": {"uri": "s3://data/churn", "version": "2026-11",
             "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
    "trainer": {"image": "registry.example/churn-trainer:1.4", "args": ["--epochs", "10"],
                "env": [{"name": "SEED", "value": "42"}]},
    "params": {"learning_rate": "0.01", "depth": "6"},
    "output": {"uri": "s3://models/"},
    "backoffLimit": 0
  })");
}

TEST(Fingerprint, KeyOrderAndWhitespaceDoNotMatter) {
  const Json a = sample_spec();
  const Json b = Json::parse(R"({
    "output": {"uri": "s3://models/"}, "backoffLimit": 0,
    "params": {"depth": "6", "learning_rate": "0.01"},
    "trainer": {"env": [{"value": "42", "name": "SEED"}], "args": ["--epochs", "10"],
                "image": "registry.example/churn-trainer:1.4"},
    "data": {"digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
             "version": "2026-11", "uri": "s3://data/churn"},
    "code": {"revision": "4f2a9c1", "repository": "https://git.example/ml.git"},
    "model": "churn"
  })");
  EXPECT_EQ(identify(a).fingerprint, identify(b).fingerprint);
}

TEST(Fingerprint, EveryInputChangesTheVersion) {
  const std::string base = identify(sample_spec()).model_version;
  const std::vector<std::pair<std::string, Json>> changes = {
      {"/model", "churn2"},
      {"/code/revision", "4f2a9c2"},
      {"/code/repository", "https://git.example/other.git"},
      {"/data/uri", "s3://data/churn-v2"},
      {"/data/version", "2026-12"},
      {"/data/digest", "sha256:2111111111111111111111111111111111111111111111111111111111111111"},
      {"/trainer/image", "registry.example/churn-trainer:1.5"},
      {"/trainer/args/1", "11"},
      {"/trainer/env/0/value", "43"},
      {"/params/depth", "7"},
      {"/params/extra", "1"},
  };
  for (const auto& [pointer, value] : changes) {
    Json spec = sample_spec();
    spec[Json::json_pointer(pointer)] = value;
    EXPECT_NE(identify(spec).model_version, base) << pointer;
  }
}

TEST(Fingerprint, OutputAndRetryPolicyAreNotPartOfTheModel) {
  const auto base = identify(sample_spec());
  Json spec = sample_spec();
  spec["output"]["uri"] = "gs://elsewhere";
  spec["backoffLimit"] = 3;
  spec["ttlSecondsAfterFinished"] = 60;
  EXPECT_EQ(identify(spec).fingerprint, base.fingerprint);
  EXPECT_EQ(identify(spec).model_uri, "gs://elsewhere/churn/" + base.model_version);
}

TEST(Fingerprint, WhereAndAsWhomTheTrainerRunsAreNotPartOfTheModel) {
  const auto base = identify(sample_spec());
  Json spec = sample_spec();
  spec["pod"] = Json::parse(R"({"volumes": [{"name": "data", "emptyDir": {}}],
                               "nodeSelector": {"pool": "gpu"},
                               "serviceAccountName": "trainer",
                               "securityContext": {"runAsUser": 1000}})");
  spec["trainer"]["volumeMounts"] = Json::parse(R"([{"name": "data", "mountPath": "/data"}])");
  spec["trainer"]["securityContext"] = Json::parse(R"({"readOnlyRootFilesystem": true})");
  EXPECT_EQ(identify(spec).fingerprint, base.fingerprint);
  // What the trainer is stays in: only the two fields above are left out.
  spec["trainer"]["image"] = "registry.example/churn-trainer:1.5";
  EXPECT_NE(identify(spec).fingerprint, base.fingerprint);
}

TEST(Fingerprint, AbsentAndEmptyOptionalFieldsAreTheSame) {
  Json with_empty = sample_spec();
  with_empty["params"] = Json::object();
  with_empty["trainer"]["command"] = Json::array();
  Json without = sample_spec();
  without.erase("params");
  EXPECT_EQ(identify(with_empty).fingerprint, identify(without).fingerprint);
}

TEST(Fingerprint, IsSha256OfTheDocumentedCanonicalText) {
  Json spec = Json::parse(R"({"model":"m","code":{"revision":"r"},"data":{"uri":"d"},
                              "trainer":{"image":"i"},"output":{"uri":"o/"}})");
  EXPECT_EQ(fingerprint_input(spec),
            R"({"code":{"revision":"r"},"data":{"uri":"d"},"model":"m","trainer":{"image":"i"}})");
  const auto id = identify(spec);
  EXPECT_EQ(id.fingerprint, sha256_hex(fingerprint_input(spec)));
  EXPECT_EQ(id.model_version, id.fingerprint.substr(0, 12));
  EXPECT_EQ(id.model_uri, "o/m/" + id.model_version);
}

TEST(Sha256, MatchesKnownVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CanonicalJson, EscapesAndKeepsUtf8) {
  EXPECT_EQ(canonical_json(Json::parse(R"({"b":"x\"y\n","a":"héllo"})")),
            "{\"a\":\"h\xc3\xa9llo\",\"b\":\"x\\\"y\\n\"}");
}

}  // namespace
}  // namespace cd4ml::api
