"""The serving pod's Prometheus metrics, as one custom collector.

prometheus_client's Histogram has one bucket set per metric, but each feature
needs its own (its baseline edges), so this collector keeps plain counts and
emits them as metric families at scrape time. Every series carries release,
revision and model_version; a series may have its own buckets, which Prometheus
accepts as long as each series' `le` values stay the same over time.

    cd4ml_model_requests_total{code}          inference requests by HTTP status
    cd4ml_model_request_duration_seconds      time in the runtime per request
    cd4ml_model_prediction                    predicted churn probability
    cd4ml_model_feature{feature}              each feature's values
    cd4ml_model_outcomes_total{correct}       feedback: was the prediction right
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from churn.baseline import bucket_counts

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
IDENTITY_LABELS = ("release", "revision", "model_version")


@dataclass(frozen=True)
class Identity:
    """Which release, revision and model version a pod serves (or a prediction came from)."""

    release: str
    revision: str
    model_version: str

    @classmethod
    def from_env(cls, env=os.environ) -> "Identity":
        return cls(env.get("CD4ML_RELEASE", ""), env.get("CD4ML_REVISION", ""), env.get("CD4ML_MODEL_VERSION", ""))

    def labels(self) -> list[str]:
        return [self.release, self.revision, self.model_version]


class _Histogram:
    def __init__(self, edges):
        self.edges = [float(e) for e in edges]
        self.counts = np.zeros(len(self.edges) + 1, dtype=np.int64)
        self.total = 0.0

    def observe(self, values: np.ndarray) -> None:
        self.counts += bucket_counts(values, self.edges)
        self.total += float(np.sum(values))

    def buckets(self) -> list[tuple[str, float]]:
        # Cumulative, as the exposition format wants; the last one is +Inf.
        cumulative = np.cumsum(self.counts)
        bounds = [floatToGoString(e) for e in self.edges] + ["+Inf"]
        return [(le, float(c)) for le, c in zip(bounds, cumulative)]


class ServingMetrics:
    """Counts in the request path (event loop) and is read by scrapes (another
    thread of the metrics server), hence the lock."""

    def __init__(self, identity: Identity, feature_names: list[str], baseline: dict):
        self._identity = identity
        self._lock = threading.Lock()
        # Series that should read 0 before the first event exist from the start,
        # so rate() and ratios over them are defined at once.
        self._requests = {"200": 0}
        self._latency = _Histogram(LATENCY_BUCKETS)
        self._prediction = _Histogram(baseline["prediction"]["edges"])
        self._features = {name: _Histogram(baseline["features"][name]["edges"]) for name in feature_names}
        self._outcomes = {(identity, "true"): 0, (identity, "false"): 0}

    def observe_request(self, code: int, seconds: float, X: np.ndarray | None = None, probability=None) -> None:
        """One inference request; X (rows x features, in feature order) and the
        churn probabilities only when it was answered."""
        with self._lock:
            self._requests[str(code)] = self._requests.get(str(code), 0) + 1
            self._latency.observe(np.asarray([seconds]))
            if X is not None:
                self._prediction.observe(np.asarray(probability))
                for i, histogram in enumerate(self._features.values()):
                    histogram.observe(X[:, i])

    def observe_outcome(self, predicted_by: Identity, correct: bool) -> None:
        """Labelled with the revision that made the prediction, which need not be
        this pod's (feedback may reach any replica, even of another revision)."""
        key = (predicted_by, "true" if correct else "false")
        with self._lock:
            self._outcomes[key] = self._outcomes.get(key, 0) + 1

    def describe(self) -> list[Metric]:
        # Names only, for the registry's duplicate check, without reading state.
        return [
            CounterMetricFamily("cd4ml_model_requests", ""),
            HistogramMetricFamily("cd4ml_model_request_duration_seconds", ""),
            HistogramMetricFamily("cd4ml_model_prediction", ""),
            HistogramMetricFamily("cd4ml_model_feature", ""),
            CounterMetricFamily("cd4ml_model_outcomes", ""),
        ]

    def collect(self) -> Iterator[Metric]:
        labels = self._identity.labels()
        with self._lock:
            requests = CounterMetricFamily(
                "cd4ml_model_requests", "Inference requests by HTTP status code.", labels=IDENTITY_LABELS + ("code",)
            )
            for code, count in sorted(self._requests.items()):
                requests.add_metric(labels + [code], count)

            latency = HistogramMetricFamily(
                "cd4ml_model_request_duration_seconds",
                "Time the model runtime spent on an inference request (decode, predict, encode).",
                labels=IDENTITY_LABELS,
            )
            latency.add_metric(labels, self._latency.buckets(), self._latency.total)

            prediction = HistogramMetricFamily(
                "cd4ml_model_prediction",
                "Predicted churn probability, on the training baseline's buckets.",
                labels=IDENTITY_LABELS,
            )
            prediction.add_metric(labels, self._prediction.buckets(), self._prediction.total)

            features = HistogramMetricFamily(
                "cd4ml_model_feature",
                "Feature values of inference requests, on each feature's training baseline buckets.",
                labels=IDENTITY_LABELS + ("feature",),
            )
            for name, histogram in self._features.items():
                features.add_metric(labels + [name], histogram.buckets(), histogram.total)

            outcomes = CounterMetricFamily(
                "cd4ml_model_outcomes",
                "Feedback on earlier predictions, by whether the prediction was correct, "
                "labelled with the revision that predicted.",
                labels=IDENTITY_LABELS + ("correct",),
            )
            for (identity, correct), count in sorted(self._outcomes.items(), key=lambda kv: (kv[0][0].labels(), kv[0][1])):
                outcomes.add_metric(identity.labels() + [correct], count)
        return iter([requests, latency, prediction, features, outcomes])
