"""The trainer as the operator runs it: env in, model file and termination message out."""

import json
import math
import re
import subprocess
import sys

import joblib
import numpy as np
import pytest

from churn import data

from conftest import ROOT, digest_of, run_trainer

METRIC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")


def check_histogram(histogram: dict) -> None:
    edges, fractions = histogram["edges"], histogram["fractions"]
    assert edges == sorted(set(edges)), "edges ascending and distinct"
    assert len(fractions) == len(edges) + 1
    assert all(0 <= f <= 1 for f in fractions)
    assert math.isclose(sum(fractions), 1.0, abs_tol=1e-9)


def test_result_metrics_digest_and_baseline(trained):
    run = trained["v1"]
    assert run.exit_code == 0
    encoded = run.message.encode()
    assert len(encoded) <= 4096
    assert b" " not in encoded and b"\n" not in encoded, "compact JSON"
    result = run.result
    assert set(result) == {"metrics", "artifactDigest", "baseline"}

    metrics = result["metrics"]
    assert {"accuracy", "auc", "log_loss"} <= set(metrics)
    assert all(METRIC_NAME.match(name) and math.isfinite(value) for name, value in metrics.items())
    assert 0.7 < metrics["auc"] < 0.95 and 0.6 < metrics["accuracy"] < 0.95 and 0 < metrics["log_loss"] < 0.69

    assert result["artifactDigest"] == digest_of(run.model_file)

    baseline = result["baseline"]
    assert baseline["samples"] == data.ROWS_PER_VERSION * 3 // 4  # test_fraction 0.25 held out
    assert list(baseline["features"]) == list(data.FEATURES)
    for histogram in [*baseline["features"].values(), baseline["prediction"]]:
        check_histogram(histogram)
    assert len(baseline["features"]["monthly_charges"]["edges"]) == 9  # continuous: deciles
    assert baseline["features"]["contract_months"]["edges"] == [1.0, 12.0, 24.0]  # discrete


def test_model_file_carries_feature_names_baseline_and_lineage(trained, data_dir):
    run = trained["v1"]
    model = joblib.load(run.model_file)
    assert model.cd4ml_feature_names_ == list(data.FEATURES)
    assert model.cd4ml_baseline_ == run.result["baseline"]
    assert model.cd4ml_lineage_["dataDigest"] == digest_of(data_dir / "churn-v1.csv")
    assert model.cd4ml_lineage_["params"]["n_estimators"] == 100
    assert model.predict_proba(np.zeros((1, len(data.FEATURES)))).shape == (1, 2)


@pytest.mark.parametrize(
    "params",
    [
        {"algorithm": "gradient_boosting", "seed": "7"},
        {"algorithm": "logistic_regression", "C": "0.5", "seed": "7"},
    ],
    ids=["gradient_boosting", "logistic_regression"],
)
def test_seeded_training_gives_identical_bytes(tmp_path, data_dir, params):
    first = run_trainer(tmp_path / "1", data_dir / "churn-v1.csv", params)
    second = run_trainer(tmp_path / "2", data_dir / "churn-v1.csv", params)
    assert first.exit_code == second.exit_code == 0
    assert first.model_file.read_bytes() == second.model_file.read_bytes()
    assert first.message == second.message


def test_another_seed_gives_another_model(tmp_path, data_dir):
    # Guards the test above against a trainer that ignores its params.
    params = {"subsample": "0.8"}
    first = run_trainer(tmp_path / "1", data_dir / "churn-v1.csv", {**params, "seed": "1"})
    second = run_trainer(tmp_path / "2", data_dir / "churn-v1.csv", {**params, "seed": "2"})
    assert first.result["artifactDigest"] != second.result["artifactDigest"]


def test_digest_that_matches_is_accepted(tmp_path, data_dir):
    path = data_dir / "churn-v2.csv"
    run = run_trainer(tmp_path, path, {"n_estimators": "5"}, CD4ML_DATA_DIGEST=digest_of(path))
    assert run.exit_code == 0, run.message


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"n_estimators": "many"}, "invalid params: n_estimators='many' is not an integer"),
        ({"max_depth": "0"}, "invalid params: max_depth='0' is out of range [1, 10]"),
        ({"learning_rate": "nan"}, "invalid params: learning_rate='nan' is out of range"),
        ({"algorithm": "svm"}, "invalid params: algorithm='svm' is not one of gradient_boosting, logistic_regression"),
        ({"depth": "3"}, "invalid params: unknown param 'depth' for gradient_boosting (accepted: algorithm, seed,"),
        ({"algorithm": "logistic_regression", "n_estimators": "5"}, "unknown param 'n_estimators' for logistic_regression"),
        ({"seed": 42}, "invalid params: seed=42 must be a string"),
        ({"max_depth": "0", "subsample": "2"}, "max_depth='0' is out of range [1, 10]; subsample='2' is out of range"),
    ],
)
def test_bad_params_fail_with_the_reason(tmp_path, data_dir, params, expected):
    run = run_trainer(tmp_path, data_dir / "churn-v1.csv", params)
    assert run.exit_code == 1
    assert expected in run.message
    assert "\n" not in run.message
    assert not run.model_dir.exists()


def test_data_digest_mismatch_fails_with_both_digests(tmp_path, data_dir):
    path = data_dir / "churn-v1.csv"
    expected = "sha256:" + "ab" * 32
    run = run_trainer(tmp_path, path, CD4ML_DATA_DIGEST=expected)
    assert run.exit_code == 1
    assert run.message == (
        f"data digest mismatch: {path.as_uri()} has {digest_of(path)}, the TrainingRun expects {expected}"
    )
    assert not run.model_dir.exists()


@pytest.mark.parametrize(
    "uri, expected",
    [
        ("file:///nonexistent/churn.csv", "cannot read data file:///nonexistent/churn.csv: No such file or directory"),
        ("s3://bucket/churn.csv", "CD4ML_DATA_URI='s3://bucket/churn.csv': only file:// URIs are supported"),
    ],
)
def test_unreadable_data_fails_with_the_reason(tmp_path, data_dir, uri, expected):
    run = run_trainer(tmp_path, data_dir / "churn-v1.csv", CD4ML_DATA_URI=uri)
    assert (run.exit_code, run.message) == (1, expected)


def wide_csv(path, features: int, rows: int = 300):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, features)).round(3)
    y = (X[:, 0] + rng.normal(size=rows) > 0).astype(int)
    lines = [",".join([f"f{i}" for i in range(features)] + ["churned"])]
    lines += [",".join([*map(str, row), str(label)]) for row, label in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_baseline_gets_fewer_buckets_to_fit_4096_bytes(tmp_path):
    run = run_trainer(tmp_path, wide_csv(tmp_path / "wide.csv", 40), {"n_estimators": "5"})
    assert run.exit_code == 0, run.message
    assert len(run.message.encode()) <= 4096
    histograms = run.result["baseline"]["features"]
    assert len(histograms) == 40
    assert max(len(h["edges"]) for h in histograms.values()) < 9
    assert joblib.load(run.model_file).cd4ml_baseline_ == run.result["baseline"]


def test_result_without_baseline_when_even_two_buckets_do_not_fit(tmp_path):
    run = run_trainer(tmp_path, wide_csv(tmp_path / "wider.csv", 300), {"n_estimators": "5"})
    assert run.exit_code == 0, run.message
    assert set(run.result) == {"metrics", "artifactDigest"}
    assert joblib.load(run.model_file).cd4ml_baseline_["features"]["f299"]["edges"]


def test_entrypoint_reports_failure_in_termination_log(tmp_path, data_dir):
    # The container's command: `python -m churn.train`, configured by env only.
    log = tmp_path / "termination-log"
    env = {
        "CD4ML_MODEL_URI": (tmp_path / "model").as_uri(),
        "CD4ML_DATA_URI": (data_dir / "churn-v1.csv").as_uri(),
        "CD4ML_PARAMS": json.dumps({"n_estimators": "-1"}),
        "CD4ML_TERMINATION_LOG": str(log),
        "PATH": "/usr/bin:/bin",
    }
    process = subprocess.run([sys.executable, "-m", "churn.train"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert process.returncode == 1
    assert log.read_text() == "invalid params: n_estimators='-1' is out of range [1, 2000]"
    assert "error: invalid params" in process.stderr
