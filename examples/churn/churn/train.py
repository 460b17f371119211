"""Trainer: the container of a TrainingRun's Job.

Reads the data named by the run, trains with the run's params, writes
<CD4ML_MODEL_URI>/model.joblib and reports its result as compact JSON in the
termination message (at most 4096 bytes):

    {"metrics": {...}, "artifactDigest": "sha256:<hex>", "baseline": {...}}

On any error it writes one line saying what is wrong to the termination message
(the TrainingRun shows it) and exits with status 1. docs/reference-model.md has
the whole contract.

    python -m churn.train        # configured by the CD4ML_* environment only
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Mapping

from churn import artifacts, termination

# numpy and scikit-learn are imported in the functions that use them: a bad
# param or URI is reported at once, not after seconds of imports.

MODEL_FILE = artifacts.MODEL_FILE
LABEL = "churned"


class TrainerError(Exception):
    """A problem with the run's inputs, reported as the termination message."""


# --- params -----------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    kind: type  # int, float or str
    default: object
    low: float | None = None  # inclusive bounds for numbers
    high: float | None = None
    choices: tuple[str, ...] = ()


COMMON_PARAMS = {
    "algorithm": Param(str, "gradient_boosting", choices=("gradient_boosting", "logistic_regression")),
    "seed": Param(int, 42, 0, 2**32 - 1),  # the split and the estimator's random_state
    "test_fraction": Param(float, 0.25, 0.05, 0.5),  # held out for the metrics
    "baseline_buckets": Param(int, 10, 2, 20),  # histogram buckets per feature (at most)
}
ALGORITHM_PARAMS = {
    "gradient_boosting": {
        "n_estimators": Param(int, 100, 1, 2000),
        "max_depth": Param(int, 3, 1, 10),
        "learning_rate": Param(float, 0.1, 1e-6, 1.0),
        "subsample": Param(float, 1.0, 0.05, 1.0),
    },
    "logistic_regression": {
        "C": Param(float, 1.0, 1e-6, 1e6),
        "max_iter": Param(int, 1000, 10, 10000),
    },
}


def _convert(name: str, raw: object, spec: Param) -> tuple[object, str | None]:
    if not isinstance(raw, str):
        return None, f"{name}={json.dumps(raw)} must be a string (params are a map of string to string)"
    if spec.kind is str:
        if raw not in spec.choices:
            return None, f"{name}={raw!r} is not one of {', '.join(spec.choices)}"
        return raw, None
    try:
        value = spec.kind(raw.strip())
    except ValueError:
        return None, f"{name}={raw!r} is not {'an integer' if spec.kind is int else 'a number'}"
    if not math.isfinite(value) or not spec.low <= value <= spec.high:
        return None, f"{name}={raw!r} is out of range [{spec.low:g}, {spec.high:g}]"
    return value, None


def parse_params(raw: Mapping[str, object]) -> dict:
    """Typed params with defaults; every problem in one TrainerError."""
    algorithm = raw.get("algorithm", COMMON_PARAMS["algorithm"].default)
    chosen, problem = _convert("algorithm", algorithm, COMMON_PARAMS["algorithm"])
    if problem:
        raise TrainerError(f"invalid params: {problem}")
    specs = {**COMMON_PARAMS, **ALGORITHM_PARAMS[chosen]}
    params, problems = {}, []
    for name in sorted(raw):
        if name not in specs:
            problems.append(f"unknown param {name!r} for {chosen} (accepted: {', '.join(specs)})")
    for name, spec in specs.items():
        if name in raw:
            params[name], problem = _convert(name, raw[name], spec)
            if problem:
                problems.append(problem)
        else:
            params[name] = spec.default
    if problems:
        raise TrainerError("invalid params: " + "; ".join(problems))
    return params


# --- inputs -----------------------------------------------------------------


@dataclass(frozen=True)
class RunInputs:
    model: str
    model_version: str
    model_dir: str
    data_uri: str
    data_version: str
    data_digest: str
    code_repository: str
    code_revision: str
    params: dict

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "RunInputs":
        for required in ("CD4ML_MODEL_URI", "CD4ML_DATA_URI"):
            if not env.get(required):
                raise TrainerError(f"{required} is not set")
        digest = env.get("CD4ML_DATA_DIGEST", "")
        if digest and not artifacts.DIGEST_PATTERN.match(digest):
            raise TrainerError(f"CD4ML_DATA_DIGEST={digest!r} is not sha256:<64 lower-case hex>")
        try:
            raw_params = json.loads(env.get("CD4ML_PARAMS") or "{}")
        except json.JSONDecodeError as e:
            raise TrainerError(f"CD4ML_PARAMS is not JSON: {e}") from None
        if not isinstance(raw_params, dict):
            raise TrainerError("CD4ML_PARAMS is not a JSON object")
        return cls(
            model=env.get("CD4ML_MODEL", ""),
            model_version=env.get("CD4ML_MODEL_VERSION", ""),
            model_dir=artifacts.local_path(env["CD4ML_MODEL_URI"], "CD4ML_MODEL_URI"),
            data_uri=env["CD4ML_DATA_URI"],
            data_version=env.get("CD4ML_DATA_VERSION", ""),
            data_digest=digest,
            code_repository=env.get("CD4ML_CODE_REPOSITORY", ""),
            code_revision=env.get("CD4ML_CODE_REVISION", ""),
            params=parse_params(raw_params),
        )


@dataclass(frozen=True)
class Dataset:
    digest: str
    features: list[str]
    X: "object"  # numpy array, rows x features
    y: "object"  # numpy array of 0/1


def read_dataset(uri: str, expected_digest: str) -> Dataset:
    """The CSV, checked against expected_digest (if any) before it is parsed."""
    import numpy as np

    content, digest = artifacts.read(artifacts.local_path(uri, "CD4ML_DATA_URI"), f"data {uri}")
    if expected_digest and digest != expected_digest:
        raise TrainerError(
            f"data digest mismatch: {uri} has {digest}, the TrainingRun expects {expected_digest}"
        )
    try:
        reader = csv.reader(io.StringIO(content.decode("utf-8")))
        header = next(reader)
    except (UnicodeDecodeError, StopIteration, csv.Error) as e:
        raise TrainerError(f"data {uri} is not a CSV with a header row: {e}") from None
    if LABEL not in header:
        raise TrainerError(f"data {uri} has no {LABEL!r} column (columns: {', '.join(header)})")
    if len(set(header)) != len(header) or "" in header:
        raise TrainerError(f"data {uri}: column names must be distinct and non-empty")
    label_at = header.index(LABEL)
    features = [name for name in header if name != LABEL]
    rows, labels = [], []
    for line, record in enumerate(reader, start=2):
        if len(record) != len(header):
            raise TrainerError(f"data {uri}: line {line} has {len(record)} fields, the header {len(header)}")
        try:
            values = [float(v) for v in record]
        except ValueError:
            raise TrainerError(f"data {uri}: line {line} has a value that is not a number") from None
        if not all(math.isfinite(v) for v in values) or values[label_at] not in (0.0, 1.0):
            raise TrainerError(f"data {uri}: line {line}: values must be finite and {LABEL} 0 or 1")
        labels.append(int(values.pop(label_at)))
        rows.append(values)
    if len(set(labels)) < 2 or len(rows) < 50:
        raise TrainerError(f"data {uri}: need at least 50 rows with both labels, got {len(rows)}")
    return Dataset(digest, features, np.asarray(rows, dtype=float), np.asarray(labels, dtype=int))


# --- training -----------------------------------------------------------------


def build_estimator(params: dict):
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if params["algorithm"] == "gradient_boosting":
        steps = [
            (
                "classifier",
                GradientBoostingClassifier(
                    n_estimators=params["n_estimators"],
                    max_depth=params["max_depth"],
                    learning_rate=params["learning_rate"],
                    subsample=params["subsample"],
                    random_state=params["seed"],
                ),
            )
        ]
    else:
        steps = [
            ("scale", StandardScaler()),
            ("classifier", LogisticRegression(C=params["C"], max_iter=params["max_iter"], random_state=params["seed"])),
        ]
    # A Pipeline either way: the server handles one kind of object, and the
    # baseline and feature names ride on it as attributes.
    return Pipeline(steps)


def held_out_metrics(y_true, probability) -> dict:
    from sklearn.metrics import accuracy_score, log_loss, precision_score, recall_score, roc_auc_score

    predicted = (probability > 0.5).astype(int)
    metrics = {
        "accuracy": accuracy_score(y_true, predicted),
        "auc": roc_auc_score(y_true, probability),
        "log_loss": log_loss(y_true, probability, labels=[0, 1]),
        "precision": precision_score(y_true, predicted, zero_division=0),
        "recall": recall_score(y_true, predicted, zero_division=0),
    }
    return {name: round(float(value), 6) for name, value in metrics.items()}


def make_baseline(features: list[str], X, probability, buckets: int) -> dict:
    from churn.baseline import histogram

    return {
        "samples": int(len(X)),
        "features": {name: histogram(X[:, i], buckets) for i, name in enumerate(features)},
        "prediction": histogram(probability, buckets),
    }


def result_json(metrics: dict, artifact_digest: str, baseline: dict | None) -> str:
    result = {"metrics": metrics, "artifactDigest": artifact_digest}
    if baseline is not None:
        result["baseline"] = baseline
    return json.dumps(result, separators=(",", ":"), allow_nan=False)


def fitting_baseline(features, X, probability, buckets: int, metrics: dict) -> tuple[dict, bool]:
    """The finest baseline (at most `buckets` per histogram) whose result fits in
    the termination message; (baseline, fits). Fewer buckets only ever shrink it.
    The same baseline goes into the model file, so the server's buckets are the
    reported ones."""
    placeholder = "sha256:" + "0" * 64  # the digest's length is fixed
    for count in range(buckets, 1, -1):
        baseline = make_baseline(features, X, probability, count)
        if len(result_json(metrics, placeholder, baseline).encode()) <= termination.LIMIT:
            if count < buckets:
                print(f"warning: baseline reduced to {count} buckets to fit in {termination.LIMIT} bytes", file=sys.stderr)
            return baseline, True
    print(
        f"warning: even a 2-bucket baseline does not fit in {termination.LIMIT} bytes; "
        "the result omits it (the model file keeps it)",
        file=sys.stderr,
    )
    return baseline, False


def write_model(model_dir: str, estimator) -> str:
    """Writes model.joblib atomically (a server never sees half a file, and a
    repeated run replaces it in one step); returns its sha256 digest."""
    import joblib

    try:
        os.makedirs(model_dir, exist_ok=True)
    except OSError as e:
        raise TrainerError(f"cannot create model directory {model_dir}: {e.strerror}") from None
    final = os.path.join(model_dir, MODEL_FILE)
    partial = os.path.join(model_dir, f".{MODEL_FILE}.{os.getpid()}.partial")
    try:
        joblib.dump(estimator, partial)
        with open(partial, "rb") as f:
            digest = artifacts.digest(f.read())
            os.fsync(f.fileno())
        os.replace(partial, final)
    except OSError as e:
        raise TrainerError(f"cannot write model {final}: {e.strerror}") from None
    return digest


def train(inputs: RunInputs) -> str:
    """Trains and writes the model; returns the result JSON."""
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    params = inputs.params
    data = read_dataset(inputs.data_uri, inputs.data_digest)
    X_train, X_test, y_train, y_test = train_test_split(
        data.X, data.y, test_size=params["test_fraction"], random_state=params["seed"], stratify=data.y
    )
    estimator = build_estimator(params)
    # One BLAS/OpenMP thread: the data is small, and a fixed summation order
    # keeps seeded training byte-for-byte reproducible.
    with threadpool_limits(limits=1):
        try:
            estimator.fit(X_train, y_train)
        except ValueError as e:
            raise TrainerError(f"training failed: {e}") from None
        positive = list(estimator.classes_).index(1)
        test_probability = estimator.predict_proba(X_test)[:, positive]
        train_probability = estimator.predict_proba(X_train)[:, positive]
    metrics = held_out_metrics(y_test, test_probability)
    baseline, baseline_fits = fitting_baseline(
        data.features, X_train, train_probability, params["baseline_buckets"], metrics
    )
    # Only what the run's spec fixes goes into the file (not the run's name, not
    # a time): identical specs must give identical bytes.
    estimator.cd4ml_feature_names_ = list(data.features)
    estimator.cd4ml_baseline_ = baseline
    estimator.cd4ml_lineage_ = {
        "model": inputs.model,
        "modelVersion": inputs.model_version,
        "codeRepository": inputs.code_repository,
        "codeRevision": inputs.code_revision,
        "dataURI": inputs.data_uri,
        "dataVersion": inputs.data_version,
        "dataDigest": data.digest,
        "params": params,
    }
    digest = write_model(inputs.model_dir, estimator)
    print(
        f"trained {params['algorithm']} on {len(X_train)} rows of {inputs.data_uri} "
        f"({inputs.data_version or 'no version'}, {data.digest}); held out {len(X_test)}: "
        + ", ".join(f"{k}={v}" for k, v in metrics.items())
    )
    print(f"wrote {os.path.join(inputs.model_dir, MODEL_FILE)} ({digest})")
    return result_json(metrics, digest, baseline if baseline_fits else None)


def main(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    started = time.monotonic()
    try:
        result = train(RunInputs.from_env(env))
    except (TrainerError, artifacts.ArtifactError) as e:
        line = termination.one_line(str(e))
        print(f"error: {line}", file=sys.stderr)
        termination.write(line, env)
        return 1
    except Exception as e:  # a bug or an environment problem: say what, keep the trace in the log
        traceback.print_exc()
        termination.write(termination.one_line(f"trainer failed: {type(e).__name__}: {e}"), env)
        return 1
    termination.write(result, env)
    print(result)
    print(f"training took {time.monotonic() - started:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
