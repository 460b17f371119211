"""The data sets: deterministic bytes, a plausible churn problem, and a v2 that
has shifted enough for drift detection and for a v1 model to fail on it."""

import csv
import hashlib
import io
import itertools
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from churn import baseline, data

from conftest import ROOT

# The bytes every machine must produce (the trainer image bakes these files in;
# TrainingRuns pin them in spec.data.digest). A change here is a new data set.
PINNED = {
    "v1": "sha256:c2872c34217e36332bf2de9c86259dffea8ee5431cde3ed0fc083a847657456a",
    "v2": "sha256:ec7b991b63694b392ef64567e5bede751d1849886eecae615fda627358f72460",
}
SHIFTED = ("tenure", "monthly_charges", "contract_months", "support_calls", "days_since_last_login")
UNSHIFTED = ("num_products", "data_usage_gb", "payment_failures")


def table(content: bytes) -> tuple[list[str], np.ndarray]:
    rows = list(csv.reader(io.StringIO(content.decode())))
    return rows[0], np.asarray(rows[1:], dtype=float)


@pytest.mark.parametrize("version", sorted(data.VERSIONS))
def test_csv_bytes_are_deterministic_and_pinned(version):
    first, second = data.csv_bytes(version), data.csv_bytes(version)
    assert first == second
    assert "sha256:" + hashlib.sha256(first).hexdigest() == PINNED[version]


@pytest.mark.parametrize("version", sorted(data.VERSIONS))
def test_csv_is_a_plausible_churn_table(version):
    header, values = table(data.csv_bytes(version))
    assert header == list(data.FEATURES) + [data.LABEL]
    assert values.shape == (data.ROWS_PER_VERSION, len(header))
    labels = values[:, -1]
    assert set(np.unique(labels)) == {0.0, 1.0}
    assert 0.15 < labels.mean() < 0.6
    assert set(np.unique(values[:, header.index("contract_months")])) == {1.0, 12.0, 24.0}


def test_cli_writes_the_csvs_and_prints_their_digests(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "churn.data", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for version, digest in PINNED.items():
        path = tmp_path / data.csv_name(version)
        assert "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert f"{digest}  {path}" in out


def test_v2_features_drift_by_psi():
    _, v1 = table(data.csv_bytes("v1"))
    _, v2 = table(data.csv_bytes("v2"))
    psi = {}
    for i, name in enumerate(data.FEATURES):
        reference = baseline.histogram(v1[:, i], 10)
        shifted = baseline.fractions(baseline.bucket_counts(v2[:, i], reference["edges"]))
        psi[name] = baseline.psi(reference["fractions"], shifted)
    assert all(psi[f] > 0.2 for f in SHIFTED), psi
    assert all(psi[f] < 0.05 for f in UNSHIFTED), psi


def live(version: str, count: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Fresh customers of a version's population (not the training CSV's)."""
    draws = list(itertools.islice(data.rows(version, seed=99), count))
    X = np.asarray([[c[f] for f in data.FEATURES] for c, _ in draws], dtype=float)
    return X, np.asarray([label for _, label in draws])


def test_v1_model_learns_v1_but_not_trivially(trained):
    model = joblib.load(trained["v1"].model_file)
    X, y = live("v1")
    auc = roc_auc_score(y, model.predict_proba(X)[:, 1])
    assert 0.7 < auc < 0.95


def test_v1_model_is_clearly_worse_on_v2_than_a_v2_model(trained):
    X, y = live("v2")
    old, new = (joblib.load(trained[v].model_file) for v in ("v1", "v2"))
    old_accuracy = accuracy_score(y, old.predict(X))
    new_accuracy = accuracy_score(y, new.predict(X))
    assert old_accuracy <= new_accuracy - 0.05, (old_accuracy, new_accuracy)
