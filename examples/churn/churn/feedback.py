"""Request ids that carry their own prediction, so any replica can score feedback.

Ground truth (did the customer churn?) arrives long after the prediction, and the
Service sends it to whichever replica it picks, possibly one of another
revision. So the request id handed out with each prediction is self-contained:
base64url of compact JSON with the release, revision and model version that
predicted, the predicted class of each row, and the v2 request id:

    {"id":"<v2 id>","rel":"churn","rev":"3f9c0a71b2","ver":"3f2a9c1b7d4e","y":"0"}

Scoring needs no state and no coordination between replicas. The price: the id
is not authenticated (a client can forge one) and a repeated feedback counts
twice. A production system would instead log each prediction with its id to a
durable store (a table, a Kafka topic) and join it with the ground truth when
that arrives, which also gives exactly-once counting and an audit trail.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Sequence

from churn.metrics import Identity


class FeedbackError(ValueError):
    """Feedback that cannot be scored; the message says why (HTTP 400)."""


def issue_request_id(identity: Identity, v2_id: str, predicted: Sequence[int]) -> str:
    claims = {
        "id": v2_id,
        "rel": identity.release,
        "rev": identity.revision,
        "ver": identity.model_version,
        "y": "".join("1" if p else "0" for p in predicted),
    }
    text = json.dumps(claims, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def read_request_id(request_id: str) -> tuple[Identity, str]:
    """(who predicted, predicted classes as a string of 0/1, one per row)."""
    try:
        padded = request_id + "=" * (-len(request_id) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        identity = Identity(claims["rel"], claims["rev"], claims["ver"])
        predicted = claims["y"]
        if not all(isinstance(v, str) for v in (*identity.labels(), predicted)) or not predicted:
            raise TypeError
        if set(predicted) - {"0", "1"}:
            raise ValueError
    except (UnicodeEncodeError, binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        raise FeedbackError("id is not a request id issued by this model server") from None
    return identity, predicted


def score(body: object) -> tuple[Identity, bool]:
    """Checks a feedback body {"id": ..., "outcome": 0|1, "row": k (optional, default 0)};
    returns who predicted and whether the prediction was correct."""
    if not isinstance(body, dict):
        raise FeedbackError('feedback must be a JSON object {"id": "<request id>", "outcome": 0 or 1}')
    request_id, outcome, row = body.get("id"), body.get("outcome"), body.get("row", 0)
    if not isinstance(request_id, str):
        raise FeedbackError('feedback needs "id": the request id of the prediction (a string)')
    # bool is an int in Python; true/false are not outcomes.
    if outcome not in (0, 1) or isinstance(outcome, bool):
        raise FeedbackError('feedback needs "outcome": 0 (stayed) or 1 (churned)')
    identity, predicted = read_request_id(request_id)
    if not isinstance(row, int) or isinstance(row, bool) or not 0 <= row < len(predicted):
        raise FeedbackError(f'"row" must be an integer in [0, {len(predicted)}) for this request')
    return identity, int(predicted[row]) == outcome
