"""Histogram helpers shared by the trainer (baseline) and the server (buckets)."""

import numpy as np

from churn import baseline


def test_buckets_follow_prometheus_le():
    # A value equal to an edge belongs to that edge's bucket (x <= le).
    counts = baseline.bucket_counts(np.array([0.5, 1.0, 1.5, 2.0, 9.0]), [1.0, 2.0])
    assert counts.tolist() == [2, 2, 1]


def test_discrete_values_get_one_edge_each():
    values = np.array([0] * 50 + [1] * 30 + [2] * 20, dtype=float)
    assert baseline.quantile_edges(values, 10) == [0.0, 1.0, 2.0]


def test_fractions_are_four_decimals_summing_to_one():
    fractions = baseline.fractions(np.array([1, 1, 1]))
    assert fractions == [0.3334, 0.3333, 0.3333]
    assert sum(round(f * baseline.FRACTION_UNITS) for f in fractions) == baseline.FRACTION_UNITS


def test_psi_is_zero_without_shift_and_large_with_one():
    assert baseline.psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert baseline.psi([0.5, 0.5], [0.9, 0.1]) > 0.2
