"""The serving container: verified loading, tagged responses, metrics, feedback.

Servers run as subprocesses on loopback ports (conftest.servers); a few checks
of the metrics collector and the request ids run in-process."""

import json
import re

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from churn import data, feedback
from churn.metrics import Identity, ServingMetrics

from conftest import SERVING_IDENTITY, digest_of, http, wait_until

ROW = {"tenure": 3, "monthly_charges": 95.5, "contract_months": 1, "support_calls": 4,
       "num_products": 1, "days_since_last_login": 30, "data_usage_gb": 12.5, "payment_failures": 1}


def per_feature_request(*rows: dict) -> dict:
    return {"inputs": [{"name": f, "shape": [len(rows)], "datatype": "FP64", "data": [r[f] for r in rows]}
                       for f in data.FEATURES]}


def matrix_request(*rows: dict) -> dict:
    values = [r[f] for r in rows for f in data.FEATURES]
    return {"inputs": [{"name": "input-0", "shape": [len(rows), len(data.FEATURES)], "datatype": "FP64", "data": values}]}


def infer(server, body) -> tuple[int, dict, dict]:
    status, headers, payload = http("POST", f"{server.url}/v2/models/churn/infer", body)
    return status, {k.lower(): v for k, v in headers.items()}, json.loads(payload)


def samples(server, family: str) -> list:
    for metrics in text_string_to_metric_families(server.metrics_text()):
        if metrics.name == family:
            return metrics.samples
    return []


def value(server, family: str, sample: str, **labels) -> float:
    matching = [s.value for s in samples(server, family)
                if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())]
    return sum(matching)


@pytest.fixture(scope="module")
def replica_a(servers):
    servers["a"].wait_ready()
    return servers["a"]


@pytest.fixture(scope="module")
def replica_b(servers):
    servers["b"].wait_ready()
    return servers["b"]


# --- loading ------------------------------------------------------------------------------------


def test_ready_after_loading_the_model_with_its_digest(replica_a, trained):
    assert replica_a.ready_status() == 200
    assert http("GET", f"{replica_a.url}/v2/health/live")[0] == 200
    assert f"model churn ready: {trained['v1'].model_file}" in replica_a.log


def test_wrong_digest_never_ready_and_says_why(servers, trained):
    server = servers["wrong_digest"]
    statuses = set()

    def exited():
        statuses.add(server.ready_status())
        return server.process.poll() is not None

    wait_until(exited, 90, "the server with a wrong digest to exit")
    assert 200 not in statuses
    assert server.process.returncode == 1
    reason = f"model digest mismatch: {trained['v1'].model_file} has {trained['v1'].result['artifactDigest']}"
    assert reason in server.log
    assert server.termination_message.startswith(f"model not loaded: {reason}")


def test_no_digest_serves_with_a_warning(servers):
    server = servers["no_digest"]
    server.wait_ready()
    assert "CD4ML_MODEL_DIGEST is not set" in server.log
    assert infer(server, per_feature_request(ROW))[0] == 200


@pytest.mark.parametrize(
    "uri, digest, reason",
    [
        ("file:///nonexistent", "", "cannot read /nonexistent/model.joblib: No such file or directory"),
        ("s3://models/churn/1", "", "CD4ML_MODEL_URI='s3://models/churn/1': only file:// URIs are supported"),
        (None, "sha256:ABC", "CD4ML_MODEL_DIGEST='sha256:ABC' is not sha256:<64 lower-case hex>"),
        (None, "digest of the foreign file", "is not a churn classifier made by churn.train"),
    ],
)
def test_load_refuses_what_it_cannot_verify_or_use(tmp_path, monkeypatch, uri, digest, reason):
    import asyncio

    import joblib
    from mlserver.settings import ModelSettings
    from sklearn.linear_model import LogisticRegression

    from churn import server

    # A model without the cd4ml_ attributes: a classifier from elsewhere.
    joblib.dump(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), tmp_path / "model.joblib")
    if digest == "digest of the foreign file":
        digest = digest_of(tmp_path / "model.joblib")
    monkeypatch.setenv("CD4ML_MODEL_URI", uri or tmp_path.as_uri())
    monkeypatch.setenv("CD4ML_MODEL_DIGEST", digest)
    monkeypatch.setattr(server, "load_failure", "")
    model = server.ChurnModel(ModelSettings(name="churn", implementation=server.ChurnModel))
    with pytest.raises(Exception, match=re.escape(reason)):
        asyncio.run(model.load())
    assert reason in server.load_failure


def test_metadata_lists_the_features(replica_a):
    status, _, body = http("GET", f"{replica_a.url}/v2/models/churn")
    assert status == 200
    assert [i["name"] for i in json.loads(body)["inputs"]] == list(data.FEATURES)


# --- inference --------------------------------------------------------------------------------------


@pytest.mark.parametrize("make_request", [per_feature_request, matrix_request])
def test_inference_is_tagged_with_revision_version_and_request_id(replica_a, trained, make_request):
    other = {**ROW, "tenure": 60, "contract_months": 24, "support_calls": 0, "payment_failures": 0}
    status, headers, response = infer(replica_a, make_request(ROW, other))
    assert status == 200, response
    assert response["model_version"] == SERVING_IDENTITY["CD4ML_MODEL_VERSION"]
    parameters = response["parameters"]
    assert parameters["revision"] == "rev-a"
    assert parameters["release"] == "churn"
    assert parameters["model_version"] == SERVING_IDENTITY["CD4ML_MODEL_VERSION"]
    assert headers["x-cd4ml-revision"] == "rev-a"
    assert headers["x-cd4ml-model-version"] == SERVING_IDENTITY["CD4ML_MODEL_VERSION"]
    assert headers["x-cd4ml-request-id"] == parameters["request_id"]

    outputs = {o["name"]: o for o in response["outputs"]}
    predicted = outputs["predict"]["data"]
    probabilities = np.asarray(outputs["predict_proba"]["data"]).reshape(2, 2)
    model = __import__("joblib").load(trained["v1"].model_file)
    X = np.asarray([[r[f] for f in data.FEATURES] for r in (ROW, other)])
    np.testing.assert_allclose(probabilities, model.predict_proba(X))
    assert predicted == [1, 0]  # a risky new customer, a loyal one

    identity, classes = feedback.read_request_id(parameters["request_id"])
    assert identity == Identity("churn", "rev-a", SERVING_IDENTITY["CD4ML_MODEL_VERSION"])
    assert classes == "10"


def test_bad_request_is_400_and_counted(replica_a):
    before = value(replica_a, "cd4ml_model_requests", "cd4ml_model_requests_total", code="400")
    incomplete = per_feature_request(ROW)
    incomplete["inputs"].pop()
    status, _, response = infer(replica_a, incomplete)
    assert status == 400
    assert "missing ['payment_failures']" in response["error"]
    after = value(replica_a, "cd4ml_model_requests", "cd4ml_model_requests_total", code="400", revision="rev-a")
    assert after == before + 1


def test_metrics_have_baseline_buckets_and_identity_labels(replica_a, trained):
    requests_before = value(replica_a, "cd4ml_model_requests", "cd4ml_model_requests_total", code="200")
    assert infer(replica_a, per_feature_request(ROW, ROW, ROW))[0] == 200
    baseline = trained["v1"].result["baseline"]
    identity = {"release": "churn", "revision": "rev-a", "model_version": SERVING_IDENTITY["CD4ML_MODEL_VERSION"]}

    families = {m.name: m for m in text_string_to_metric_families(replica_a.metrics_text()) if m.name.startswith("cd4ml_")}
    assert set(families) == {"cd4ml_model_requests", "cd4ml_model_request_duration_seconds", "cd4ml_model_prediction",
                             "cd4ml_model_feature", "cd4ml_model_outcomes"}
    for family in families.values():
        for sample in family.samples:
            assert {k: sample.labels[k] for k in identity} == identity, sample

    assert value(replica_a, "cd4ml_model_requests", "cd4ml_model_requests_total", code="200") == requests_before + 1

    def bucket_bounds(family, **labels):
        return [s.labels["le"] for s in families[family].samples
                if s.name.endswith("_bucket") and all(s.labels.get(k) == v for k, v in labels.items())]

    def expected_bounds(edges):
        return [str(float(e)) for e in edges] + ["+Inf"]

    assert bucket_bounds("cd4ml_model_prediction") == expected_bounds(baseline["prediction"]["edges"])
    for feature, histogram in baseline["features"].items():
        assert bucket_bounds("cd4ml_model_feature", feature=feature) == expected_bounds(histogram["edges"])
    tenure_count = [s.value for s in families["cd4ml_model_feature"].samples
                    if s.name == "cd4ml_model_feature_count" and s.labels["feature"] == "tenure"]
    prediction_count = [s.value for s in families["cd4ml_model_prediction"].samples if s.name.endswith("_count")]
    assert tenure_count == prediction_count and tenure_count[0] >= 3
    assert any(s.name.endswith("_count") and s.value > 0 for s in families["cd4ml_model_request_duration_seconds"].samples)


# --- feedback ------------------------------------------------------------------------------------------


def outcomes(server, revision, correct) -> float:
    return value(server, "cd4ml_model_outcomes", "cd4ml_model_outcomes_total", revision=revision, correct=correct)


def test_feedback_counts_for_the_predicting_revision_on_any_replica(replica_a, replica_b):
    _, _, response = infer(replica_a, per_feature_request(ROW))
    request_id = response["parameters"]["request_id"]
    predicted = response["outputs"][0]["data"][0]
    before = {(s, r, c): outcomes(s, r, c) for s in (replica_a, replica_b)
              for r in ("rev-a", "rev-b") for c in ("true", "false")}

    # Ground truth arrives at the other replica (another revision, even).
    for outcome in (predicted, 1 - predicted):
        status, _, body = http("POST", f"{replica_b.url}/feedback", {"id": request_id, "outcome": outcome})
        assert status == 200, body
        assert json.loads(body)["revision"] == "rev-a"

    after = {key: outcomes(*key) for key in before}
    changed = {key: after[key] - before[key] for key in before if after[key] != before[key]}
    assert changed == {(replica_b, "rev-a", "true"): 1, (replica_b, "rev-a", "false"): 1}


@pytest.mark.parametrize(
    "body, reason",
    [
        ({"id": "not-a-request-id", "outcome": 1}, "id is not a request id issued by this model server"),
        ({"outcome": 1}, 'feedback needs "id"'),
        ({"id": "x", "outcome": "yes"}, 'feedback needs "outcome": 0 (stayed) or 1 (churned)'),
        ({"id": "x", "outcome": True}, 'feedback needs "outcome"'),
        ([1, 2], "feedback must be a JSON object"),
    ],
)
def test_feedback_rejects_what_it_cannot_score(replica_a, body, reason):
    status, _, response = http("POST", f"{replica_a.url}/feedback", body)
    assert status == 400
    assert reason in json.loads(response)["error"]


def test_feedback_row_of_a_batched_request():
    request_id = feedback.issue_request_id(Identity("r", "rev", "v"), "id-1", [0, 1, 1])
    assert feedback.score({"id": request_id, "outcome": 1, "row": 1}) == (Identity("r", "rev", "v"), True)
    assert feedback.score({"id": request_id, "outcome": 1}) == (Identity("r", "rev", "v"), False)
    with pytest.raises(feedback.FeedbackError, match=r'"row" must be an integer in \[0, 3\)'):
        feedback.score({"id": request_id, "outcome": 1, "row": 3})


# --- the collector in-process ------------------------------------------------------------------------


def test_collector_emits_each_feature_on_its_own_buckets():
    baseline = {"prediction": {"edges": [0.5]},
                "features": {"a": {"edges": [1.0, 2.0]}, "b": {"edges": [10.0]}}}
    metrics = ServingMetrics(Identity("rel", "rev", "ver"), ["a", "b"], baseline)
    metrics.observe_request(200, 0.002, np.array([[1.0, 5.0], [3.0, 50.0]]), np.array([0.2, 0.9]))
    registry = CollectorRegistry()
    registry.register(metrics)
    text = generate_latest(registry).decode()
    assert 'cd4ml_model_feature_bucket{feature="a",le="1.0",model_version="ver",release="rel",revision="rev"} 1.0' in text
    assert 'cd4ml_model_feature_bucket{feature="a",le="2.0",model_version="ver",release="rel",revision="rev"} 1.0' in text
    assert 'cd4ml_model_feature_bucket{feature="b",le="10.0",model_version="ver",release="rel",revision="rev"} 1.0' in text
    assert 'cd4ml_model_feature_bucket{feature="b",le="+Inf",model_version="ver",release="rel",revision="rev"} 2.0' in text
    assert 'cd4ml_model_prediction_bucket{le="0.5",model_version="ver",release="rel",revision="rev"} 1.0' in text
    assert 'cd4ml_model_outcomes_total{correct="true",model_version="ver",release="rel",revision="rev"} 0.0' in text
