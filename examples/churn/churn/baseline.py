"""Histograms for drift detection: bucket edges at training quantiles.

The trainer computes a baseline (edges and the training data's fraction per
bucket) for each feature and for the predicted probability; the server counts
live values into the same buckets as Prometheus histograms. Buckets follow
Prometheus `le` semantics: bucket i holds edges[i-1] < x <= edges[i], and the
last bucket (edges[-1], +Inf).
"""

from __future__ import annotations

import math

import numpy as np

# Fractions are written as multiples of this (0.0001): four decimals, summing to 1.
FRACTION_UNITS = 10_000


def round_edge(x: float) -> float:
    """Four significant digits: enough to place a bucket, short in the 4 KiB result."""
    return float(f"{x:.4g}")


def quantile_edges(values: np.ndarray, buckets: int) -> list[float]:
    """Ascending, distinct upper bounds at the 1/buckets .. (buckets-1)/buckets quantiles.

    Discrete features give repeated quantiles; they are merged, so such a feature
    gets fewer buckets. Edges are rounded before deduplication so that the
    server's buckets are exactly the ones recorded here.
    """
    probabilities = np.arange(1, buckets) / buckets
    # "inverted_cdf" picks observed values: an edge at a real value keeps the
    # integer-valued features' buckets aligned with their values.
    quantiles = np.quantile(values, probabilities, method="inverted_cdf")
    return sorted({round_edge(float(q)) for q in quantiles})


def bucket_counts(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Counts per bucket (len(edges) + 1), by `le` semantics."""
    index = np.searchsorted(np.asarray(edges, dtype=float), values, side="left")
    return np.bincount(index, minlength=len(edges) + 1)


def fractions(counts: np.ndarray) -> list[float]:
    """Counts as fractions with four decimals that sum to exactly 1 (largest remainder)."""
    total = int(counts.sum())
    if total == 0:
        raise ValueError("no values to make a histogram of")
    exact = counts * FRACTION_UNITS / total
    units = np.floor(exact).astype(int)
    shortfall = FRACTION_UNITS - int(units.sum())
    # Hand the missing units to the largest remainders; ties go to the lower bucket.
    for i in sorted(range(len(units)), key=lambda i: (-(exact[i] - units[i]), i))[:shortfall]:
        units[i] += 1
    return [int(u) / FRACTION_UNITS for u in units]


def histogram(values: np.ndarray, buckets: int) -> dict:
    edges = quantile_edges(values, buckets)
    return {"edges": edges, "fractions": fractions(bucket_counts(values, edges))}


def psi(expected: list[float], actual: list[float], floor: float = 1e-4) -> float:
    """Population stability index between two histograms over the same buckets.

    Empty buckets are floored so that the logarithm stays finite; the usual
    reading: < 0.1 stable, 0.1-0.2 moderate shift, > 0.2 significant shift.
    """
    if len(expected) != len(actual):
        raise ValueError("histograms over different buckets")
    total = 0.0
    for e, a in zip(expected, actual):
        e, a = max(e, floor), max(a, floor)
        total += (a - e) * math.log(a / e)
    return total
