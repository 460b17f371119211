"""Deterministic churn-like data sets, one per data version.

Each version is a fixed recipe (feature distributions and a label relation) plus
a seed. The CSV of a version is the first ROWS_PER_VERSION rows drawn with the
version's seed; the traffic generator draws fresh rows from the same recipe with
another seed, so live traffic is new customers from the same population.

Pure Python on purpose: only random.Random.random() is used, whose sequence for a
given seed Python guarantees across versions and machines, and numbers are
written with fixed precision by str.format. numpy's generators and formatting
carry no such guarantee, and the traffic generator needs no third-party package.

    python -m churn.data --out DIR     # writes DIR/churn-v1.csv, DIR/churn-v2.csv
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import sys
from dataclasses import dataclass
from typing import Iterator, Sequence

FEATURES = (
    "tenure",  # months as a customer
    "monthly_charges",  # currency units
    "contract_months",  # 1 (month-to-month), 12 or 24
    "support_calls",  # calls in the last quarter
    "num_products",  # 1..4
    "days_since_last_login",
    "data_usage_gb",  # per month
    "payment_failures",  # in the last year
)
LABEL = "churned"
ROWS_PER_VERSION = 5000


class _Draw:
    """Distributions built on random.Random.random() alone (see module doc)."""

    def __init__(self, seed: int):
        self._rng = random.Random(seed)

    def uniform(self) -> float:
        return self._rng.random()

    def normal(self, mean: float, sd: float) -> float:
        # Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
        radius = math.sqrt(-2.0 * math.log(1.0 - self.uniform()))
        return mean + sd * radius * math.cos(2.0 * math.pi * self.uniform())

    def exponential(self, mean: float) -> float:
        return -mean * math.log(1.0 - self.uniform())

    def poisson(self, lam: float) -> int:
        # Inverse transform: small means only, so the loop is short.
        u, k, p = self.uniform(), 0, math.exp(-lam)
        cumulative = p
        while u > cumulative and k < 50:
            k += 1
            p *= lam / k
            cumulative += p
        return k

    def choice(self, values: Sequence[int], weights: Sequence[float]) -> int:
        u, cumulative = self.uniform() * sum(weights), 0.0
        for value, weight in zip(values, weights):
            cumulative += weight
            if u < cumulative:
                return value
        return values[-1]

    def bernoulli(self, p: float) -> int:
        return 1 if self.uniform() < p else 0


def _clip(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)


@dataclass(frozen=True)
class Version:
    seed: int
    mean_tenure: float
    mean_charges: float
    contract_weights: tuple[float, float, float]  # for 1, 12, 24 months
    mean_support_calls: float
    mean_days_since_login: float
    # The label relation: logit of churn = intercept + sum of weight * (value - center).
    intercept: float
    effects: dict  # feature -> (weight, center)

    def churn_logit(self, customer: dict) -> float:
        logit = self.intercept
        for feature, (weight, center) in self.effects.items():
            logit += weight * (customer[feature] - center)
        return logit


VERSIONS = {
    # Long-standing customers on long contracts stay; support trouble, failed
    # payments and inactivity drive churn; price matters a little.
    "v1": Version(
        seed=20240101,
        mean_tenure=26.0,
        mean_charges=65.0,
        contract_weights=(0.45, 0.30, 0.25),
        mean_support_calls=1.2,
        mean_days_since_login=10.0,
        intercept=-1.3,
        effects={
            "tenure": (-0.045, 24),
            "monthly_charges": (0.02, 65),
            "contract_months": (-0.06, 10),
            "support_calls": (0.5, 1.2),
            "num_products": (-0.3, 2),
            "days_since_last_login": (0.05, 10),
            "payment_failures": (0.7, 0),
        },
    ),
    # A change in customer behaviour: newer, pricier, shorter contracts, more
    # support calls, less engaged. And after a competitor's cheap unlimited-data
    # offer, price and heavy data use drive churn, support calls barely matter
    # (a new support process fixes problems), tenure and bundles protect less.
    "v2": Version(
        seed=20240702,
        mean_tenure=13.0,
        mean_charges=80.0,
        contract_weights=(0.70, 0.18, 0.12),
        mean_support_calls=2.5,
        mean_days_since_login=18.0,
        intercept=-0.6,
        effects={
            "tenure": (-0.015, 24),
            "monthly_charges": (0.07, 80),
            "contract_months": (-0.04, 10),
            "support_calls": (0.05, 2.5),
            "num_products": (0.1, 2),
            "days_since_last_login": (0.01, 18),
            "data_usage_gb": (0.09, 20),
            "payment_failures": (0.7, 0),
        },
    ),
}


def _customer(draw: _Draw, version: Version) -> dict:
    return {
        "tenure": int(_clip(draw.exponential(version.mean_tenure), 0, 72)),
        "monthly_charges": round(_clip(draw.normal(version.mean_charges, 20.0), 18.0, 130.0), 2),
        "contract_months": draw.choice((1, 12, 24), version.contract_weights),
        "support_calls": draw.poisson(version.mean_support_calls),
        "num_products": draw.choice((1, 2, 3, 4), (0.4, 0.3, 0.2, 0.1)),
        "days_since_last_login": int(_clip(draw.exponential(version.mean_days_since_login), 0, 120)),
        "data_usage_gb": round(_clip(draw.normal(20.0, 8.0), 0.0, 80.0), 1),
        "payment_failures": draw.poisson(0.3),
    }


def rows(version: str, seed: int | None = None) -> Iterator[tuple[dict, int]]:
    """Endless (features, label) draws of a data version; seed defaults to the CSV's."""
    recipe = version_recipe(version)
    draw = _Draw(recipe.seed if seed is None else seed)
    while True:
        customer = _customer(draw, recipe)
        probability = 1.0 / (1.0 + math.exp(-recipe.churn_logit(customer)))
        yield customer, draw.bernoulli(probability)


def version_recipe(version: str) -> Version:
    try:
        return VERSIONS[version]
    except KeyError:
        raise ValueError(f"unknown data version {version!r}; known: {', '.join(VERSIONS)}") from None


def _format(value: float | int) -> str:
    # Integers as integers; floats with the two decimals they were rounded to.
    return str(value) if isinstance(value, int) else f"{value:.2f}"


def csv_bytes(version: str, count: int = ROWS_PER_VERSION) -> bytes:
    lines = [",".join(FEATURES + (LABEL,))]
    draws = rows(version)
    for _ in range(count):
        customer, label = next(draws)
        lines.append(",".join([_format(customer[f]) for f in FEATURES] + [str(label)]))
    return ("\n".join(lines) + "\n").encode("ascii")


def csv_name(version: str) -> str:
    return f"churn-{version}.csv"


def write_csvs(directory: str) -> dict[str, str]:
    """Writes every version's CSV into directory; returns path -> sha256:<hex>."""
    os.makedirs(directory, exist_ok=True)
    digests = {}
    for version in VERSIONS:
        content = csv_bytes(version)
        path = os.path.join(directory, csv_name(version))
        with open(path, "wb") as f:
            f.write(content)
        digests[path] = "sha256:" + hashlib.sha256(content).hexdigest()
    return digests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the churn data sets as CSV and print their digests.")
    parser.add_argument("--out", required=True, help="directory to write churn-<version>.csv into")
    args = parser.parse_args(argv)
    for path, digest in write_csvs(args.out).items():
        print(f"{digest}  {path}  ({os.path.getsize(path)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
