"""Traffic and feedback generator for a churn model Service.

Sends one-row inference requests, drawn from a data version's population, at a
steady rate (open loop: request i is due at start + i/rate whether or not
earlier ones have been answered), and, optionally, each answered prediction's
true label to /feedback some seconds later, as ground truth arrives. Runs for
--duration seconds or until SIGTERM/SIGINT, then prints a JSON summary.

    python -m churn.traffic --url http://churn.default.svc --data v2 --rate 20 \\
        --duration 60 --feedback-delay 5 --summary /tmp/summary.json

Standard library only, so the image needs nothing but Python.
"""

from __future__ import annotations

import argparse
import heapq
import http.client
import itertools
import json
import math
import queue
import random
import signal
import socket
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

from churn import data

LATENCY_SAMPLES = 100_000  # reservoir size for the percentiles of long runs
LAG_WARNING = 0.1  # seconds behind schedule that count a request as late


@dataclass
class Options:
    url: str
    data_version: str
    rate: float
    duration: float | None = None
    feedback_delay: float | None = None
    model: str = "churn"
    concurrency: int = 0  # 0: from the rate
    timeout: float = 5.0
    seed: int = 1
    # False: a new connection per request. Through a Kubernetes Service, a
    # kept-alive connection stays with the pod it reached first, so after a
    # blue/green switch it keeps reaching the old revision until that pod
    # closes it; fresh connections follow the Service at once.
    keep_alive: bool = True
    summary_path: str | None = None
    report_every: float = 10.0

    def workers(self) -> int:
        # Enough for 100 ms per request at the rate, doubled when feedback
        # shares the pool: comfortable for 10-50 ms latencies.
        if self.concurrency:
            return self.concurrency
        per_second = self.rate * (2 if self.feedback_delay is not None else 1)
        return min(128, max(2, math.ceil(per_second * 0.1) + 1))


@dataclass
class Stats:
    """Everything the summary reports; updated by workers under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    succeeded: int = 0
    failures: Counter = field(default_factory=Counter)
    revisions: Counter = field(default_factory=Counter)
    model_versions: Counter = field(default_factory=Counter)
    correct: Counter = field(default_factory=Counter)  # by revision: predicted == true label
    latencies: list = field(default_factory=list)
    late: int = 0
    max_lag: float = 0.0
    feedback_sent: int = 0
    feedback_failures: Counter = field(default_factory=Counter)
    feedback_dropped: int = 0
    _sampler: random.Random = field(default_factory=lambda: random.Random(0))

    def add_latency(self, seconds: float) -> None:
        # Reservoir sampling (algorithm R): a uniform sample of every latency.
        if len(self.latencies) < LATENCY_SAMPLES:
            self.latencies.append(seconds)
        else:
            slot = self._sampler.randrange(self.succeeded)
            if slot < LATENCY_SAMPLES:
                self.latencies[slot] = seconds


def _percentile(ordered: list[float], p: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


class Endpoint:
    """One keep-alive HTTP connection to the Service; reconnects after errors."""

    def __init__(self, base_url: str, timeout: float, keep_alive: bool = True):
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"--url {base_url!r} must be http(s)://host[:port][/prefix]")
        self._connection_class = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
        self._host, self._port, self._prefix = parsed.hostname, parsed.port, parsed.path.rstrip("/")
        self._timeout = timeout
        self._keep_alive = keep_alive
        self._connection = None

    def post(self, path: str, body: dict) -> tuple[int, bytes]:
        if self._connection is None:
            self._connection = self._connection_class(self._host, self._port, timeout=self._timeout)
        headers = {"Content-Type": "application/json"}
        if not self._keep_alive:
            headers["Connection"] = "close"
        try:
            self._connection.request("POST", self._prefix + path, body=json.dumps(body), headers=headers)
            response = self._connection.getresponse()
            answer = response.status, response.read()
            if not self._keep_alive:
                self._connection.close()
                self._connection = None
            return answer
        except BaseException:
            self._connection.close()
            self._connection = None
            raise


def failure_kind(error: BaseException) -> str:
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(error, (ConnectionError, http.client.HTTPException, OSError)):
        return "connection"
    return type(error).__name__


def inference_body(customer: dict) -> dict:
    # One tensor per feature, named: independent of the model's column order.
    return {"inputs": [{"name": f, "shape": [1], "datatype": "FP64", "data": [customer[f]]} for f in data.FEATURES]}


class Generator:
    def __init__(self, options: Options):
        self.options = options
        self.stats = Stats()
        self.stop = threading.Event()  # no new requests
        self.abandon = threading.Event()  # signal received: drop pending feedback too
        self._jobs: queue.Queue = queue.Queue()
        self._feedback: list = []  # heap of (due, sequence, request id, outcome)
        self._feedback_ready = threading.Condition()
        self._sequence = itertools.count()
        Endpoint(options.url, options.timeout)  # validates the URL before anything starts

    # --- workers -----------------------------------------------------------

    def _worker(self) -> None:
        endpoint = Endpoint(self.options.url, self.options.timeout, self.options.keep_alive)
        while True:
            job = self._jobs.get()
            if job is None:
                return
            kind, *args = job
            if kind == "infer":
                self._infer(endpoint, *args)
            else:
                self._send_feedback(endpoint, *args)

    def _infer(self, endpoint: Endpoint, customer: dict, label: int, due: float) -> None:
        lag = time.monotonic() - due
        started = time.monotonic()
        try:
            status, payload = endpoint.post(f"/v2/models/{self.options.model}/infer", inference_body(customer))
            outcome = self._read_prediction(status, payload)
        except Exception as e:
            outcome = failure_kind(e)
        latency = time.monotonic() - started
        if self.options.feedback_delay is not None and not isinstance(outcome, str):
            # Queued before the request is counted: once every request is
            # counted, all their feedback is in the heap (see run's drain).
            with self._feedback_ready:
                if self.abandon.is_set():
                    # The timer has already counted and dropped what was pending.
                    with self.stats.lock:
                        self.stats.feedback_dropped += 1
                else:
                    due_at = time.monotonic() + self.options.feedback_delay
                    heapq.heappush(self._feedback, (due_at, next(self._sequence), outcome[2], label))
                    self._feedback_ready.notify()
        with self.stats.lock:
            stats = self.stats
            stats.requests += 1
            stats.max_lag = max(stats.max_lag, lag)
            stats.late += lag > LAG_WARNING
            if isinstance(outcome, str):
                stats.failures[outcome] += 1
                return
            revision, model_version, request_id, predicted = outcome
            stats.succeeded += 1
            stats.add_latency(latency)
            stats.revisions[revision] += 1
            stats.model_versions[model_version] += 1
            stats.correct[(revision, predicted == label)] += 1

    @staticmethod
    def _read_prediction(status: int, payload: bytes):
        """(revision, model version, request id, predicted class), or a failure kind."""
        if status != 200:
            return f"http_{status}"
        try:
            response = json.loads(payload)
            parameters = response["parameters"]
            predict = next(o for o in response["outputs"] if o["name"] == "predict")
            return parameters["revision"], parameters["model_version"], parameters["request_id"], int(predict["data"][0])
        except (ValueError, KeyError, TypeError, StopIteration, IndexError):
            return "invalid_response"

    def _send_feedback(self, endpoint: Endpoint, request_id: str, outcome: int) -> None:
        try:
            status, _ = endpoint.post("/feedback", {"id": request_id, "outcome": outcome})
            failure = None if status == 200 else f"http_{status}"
        except Exception as e:
            failure = failure_kind(e)
        with self.stats.lock:
            if failure:
                self.stats.feedback_failures[failure] += 1
            else:
                self.stats.feedback_sent += 1

    # --- feedback timer --------------------------------------------------------

    def _feedback_timer(self, inference_done: threading.Event) -> None:
        """Moves feedback to the workers when it is due; returns when none is
        left and no more can come, or at once when abandoned."""
        with self._feedback_ready:
            while not self.abandon.is_set():
                if self._feedback:
                    wait = self._feedback[0][0] - time.monotonic()
                    if wait <= 0:
                        _, _, request_id, outcome = heapq.heappop(self._feedback)
                        self._jobs.put(("feedback", request_id, outcome))
                        continue
                    self._feedback_ready.wait(wait)
                elif inference_done.is_set():
                    return
                else:
                    self._feedback_ready.wait()
            with self.stats.lock:
                self.stats.feedback_dropped += len(self._feedback)
            self._feedback.clear()

    # --- run -------------------------------------------------------------------

    def run(self) -> dict:
        options = self.options
        workers = [threading.Thread(target=self._worker, daemon=True) for _ in range(options.workers())]
        inference_done = threading.Event()
        timer = threading.Thread(target=self._feedback_timer, args=(inference_done,), daemon=True)
        for thread in workers + [timer]:
            thread.start()
        rows = data.rows(options.data_version, seed=options.seed)
        started = time.monotonic()
        next_report = started + options.report_every if options.report_every else math.inf
        scheduled = 0
        while not self.stop.is_set():
            offset = scheduled / options.rate
            if options.duration is not None and offset >= options.duration:
                break
            due = started + offset
            if self.stop.wait(max(0.0, due - time.monotonic())):
                break
            customer, label = next(rows)
            self._jobs.put(("infer", customer, label, due))
            scheduled += 1
            if time.monotonic() >= next_report:
                self._report(started)
                next_report += options.report_every
        sending_time = time.monotonic() - started
        # Drain: answered requests may still add feedback, so the timer is told
        # that inference is over only once every request has been answered.
        self._wait_for(lambda: self.stats.requests >= scheduled or self.abandon.is_set())
        inference_done.set()
        with self._feedback_ready:
            self._feedback_ready.notify()
        timer.join()
        for _ in workers:
            self._jobs.put(None)
        for thread in workers:
            thread.join(options.timeout + 1)
        return self.summary(sending_time)

    def _wait_for(self, condition, poll: float = 0.01) -> None:
        while True:
            with self.stats.lock:
                if condition():
                    return
            self.abandon.wait(poll)

    def _report(self, started: float) -> None:
        with self.stats.lock:
            s = self.stats
            print(
                f"t={time.monotonic() - started:.0f}s requests={s.requests} ok={s.succeeded} "
                f"failures={sum(s.failures.values())} feedback={s.feedback_sent} revisions={dict(s.revisions)}",
                file=sys.stderr,
                flush=True,
            )

    def interrupt(self) -> None:
        """First signal: stop sending, drop pending feedback, report."""
        self.stop.set()
        self.abandon.set()
        with self._feedback_ready:
            self._feedback_ready.notify()

    def summary(self, sending_time: float) -> dict:
        with self.stats.lock:
            s = self.stats
            ordered = sorted(s.latencies)
            by_revision = {}
            for (revision, correct), count in s.correct.items():
                entry = by_revision.setdefault(revision, {"correct": 0, "incorrect": 0})
                entry["correct" if correct else "incorrect"] += count
            return {
                "url": self.options.url,
                "data_version": self.options.data_version,
                "target_rate": self.options.rate,
                # Over the schedule's span (request i is due at i/rate), or longer if sending fell behind.
                "achieved_rate": round(s.requests / max(sending_time, s.requests / self.options.rate, 1e-9), 3),
                "duration_s": round(sending_time, 3),
                "interrupted": self.abandon.is_set(),
                "requests": s.requests,
                "succeeded": s.succeeded,
                "failures": dict(s.failures),
                "late": s.late,
                "max_lag_ms": round(s.max_lag * 1000, 3),
                "latency_ms": {
                    "p50": round(_percentile(ordered, 50) * 1000, 3) if ordered else None,
                    "p99": round(_percentile(ordered, 99) * 1000, 3) if ordered else None,
                },
                "revisions": dict(s.revisions),
                "model_versions": dict(s.model_versions),
                "outcomes_by_revision": by_revision,
                "feedback": {
                    "sent": s.feedback_sent,
                    "failures": dict(s.feedback_failures),
                    "dropped": s.feedback_dropped,
                },
            }


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m churn.traffic", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="base URL of the model Service, e.g. http://churn:80")
    parser.add_argument("--data", dest="data_version", default="v1", choices=sorted(data.VERSIONS))
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, help="seconds to send for (default: until SIGTERM/SIGINT)")
    parser.add_argument("--feedback-delay", type=float, help="send each true label to /feedback after this many seconds")
    parser.add_argument("--model", default="churn", help="model name in /v2/models/<model>/infer")
    parser.add_argument("--concurrency", type=int, default=0, help="parallel connections (default: from the rate)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per HTTP request")
    parser.add_argument("--seed", type=int, default=1, help="which customers are drawn (not the CSV's seed)")
    parser.add_argument(
        "--no-keep-alive",
        dest="keep_alive",
        action="store_false",
        help="a new connection per request, so each one follows the Service's current selector",
    )
    parser.add_argument("--summary", dest="summary_path", help="also write the JSON summary to this file")
    parser.add_argument("--report-every", type=float, default=10.0, help="progress line on stderr (0: none)")
    options = Options(**vars(parser.parse_args(argv)))
    if not options.rate > 0 or (options.duration is not None and not options.duration > 0):
        parser.error("--rate and --duration must be positive")
    if options.feedback_delay is not None and options.feedback_delay < 0:
        parser.error("--feedback-delay must not be negative")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        generator = Generator(options)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: generator.interrupt())
    summary = generator.run()
    text = json.dumps(summary, sort_keys=True)
    print(text, flush=True)
    if options.summary_path:
        with open(options.summary_path, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
