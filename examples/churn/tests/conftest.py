"""Shared fixtures: the data sets, trained models, and model servers started as
subprocesses on loopback ports (the way a pod runs them)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from churn import data, train

ROOT = Path(__file__).resolve().parent.parent


# --- waiting without sleeping blindly ------------------------------------------


def wait_until(condition, timeout: float, what: str, interval: float = 0.05):
    """Polls condition() until it returns something truthy; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --- HTTP -------------------------------------------------------------------------


def http(method: str, url: str, body: object = None, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    """(status, headers, body) for any status; raises only when nothing answers."""
    request = urllib.request.Request(url, method=method)
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, payload, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- data and trained models ----------------------------------------------------------


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("data")
    data.write_csvs(str(directory))
    return directory


def digest_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class TrainerRun:
    exit_code: int
    message: str  # the termination message
    model_dir: Path

    @property
    def result(self) -> dict:
        return json.loads(self.message)

    @property
    def model_file(self) -> Path:
        return self.model_dir / train.MODEL_FILE


def run_trainer(tmp_path: Path, data_file: Path, params: dict | None = None, **env) -> TrainerRun:
    """Runs the trainer in-process with the environment the operator gives."""
    model_dir = tmp_path / "model"
    termination_log = tmp_path / "termination-log"
    environment = {
        "CD4ML_RUN": "churn-test",
        "CD4ML_MODEL": "churn",
        "CD4ML_MODEL_VERSION": "0123456789ab",
        "CD4ML_MODEL_URI": model_dir.as_uri(),
        "CD4ML_CODE_REPOSITORY": "https://example.com/churn.git",
        "CD4ML_CODE_REVISION": "abc123",
        "CD4ML_DATA_URI": data_file.as_uri(),
        "CD4ML_DATA_VERSION": data_file.stem,
        "CD4ML_DATA_DIGEST": "",
        "CD4ML_PARAMS": json.dumps(params or {}),
        "CD4ML_TERMINATION_LOG": str(termination_log),
        **env,
    }
    exit_code = train.main(environment)
    message = termination_log.read_text() if termination_log.exists() else ""
    return TrainerRun(exit_code, message, model_dir)


@pytest.fixture(scope="session")
def trained(data_dir, tmp_path_factory) -> dict[str, TrainerRun]:
    """A model per data version, trained with the default params."""
    runs = {}
    for version in data.VERSIONS:
        run = run_trainer(tmp_path_factory.mktemp(f"train-{version}"), data_dir / data.csv_name(version))
        assert run.exit_code == 0, run.message
        runs[version] = run
    return runs


# --- model servers -------------------------------------------------------------------------


@dataclass(eq=False)
class Server:
    """`python -m churn.serve` as a subprocess, as the serving container runs it."""

    env: dict
    workdir: Path
    http_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def log(self) -> str:
        return (self.workdir / "server.log").read_text()

    @property
    def termination_message(self) -> str:
        path = self.workdir / "termination-log"
        return path.read_text() if path.exists() else ""

    def start(self) -> "Server":
        env = {
            **os.environ,
            **self.env,
            "PYTHONPATH": str(ROOT),
            "MLSERVER_HTTP_PORT": str(self.http_port),
            "MLSERVER_GRPC_PORT": str(free_port()),
            "MLSERVER_METRICS_PORT": str(self.metrics_port),
            "CD4ML_TERMINATION_LOG": str(self.workdir / "termination-log"),
        }
        log = open(self.workdir / "server.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "churn.serve", str(ROOT / "serving")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def ready_status(self) -> int | None:
        try:
            return http("GET", f"{self.url}/v2/models/churn/ready", timeout=2)[0]
        except OSError:
            return None  # not listening yet

    def wait_ready(self, timeout: float = 90) -> None:
        def ready_or_exited():
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.log}")
            return self.ready_status() == 200

        wait_until(ready_or_exited, timeout, f"server {self.env.get('CD4ML_REVISION')} to become ready")

    def metrics_text(self) -> str:
        status, _, body = http("GET", f"http://127.0.0.1:{self.metrics_port}/metrics")
        assert status == 200
        return body.decode()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


SERVING_IDENTITY = {"CD4ML_RELEASE": "churn", "CD4ML_MODEL_VERSION": "0123456789ab"}


@pytest.fixture(scope="session")
def servers(trained, tmp_path_factory):
    """Servers started together (each takes seconds to import MLServer):
    two replicas of different revisions serving the v1 model with its digest,
    one given a wrong digest and one given no digest."""
    run = trained["v1"]
    model = {"CD4ML_MODEL_URI": run.model_dir.as_uri()}
    right, wrong = run.result["artifactDigest"], "sha256:" + "0" * 64
    specs = {
        "a": {**SERVING_IDENTITY, **model, "CD4ML_REVISION": "rev-a", "CD4ML_MODEL_DIGEST": right},
        "b": {**SERVING_IDENTITY, **model, "CD4ML_REVISION": "rev-b", "CD4ML_MODEL_DIGEST": right},
        "wrong_digest": {**SERVING_IDENTITY, **model, "CD4ML_REVISION": "rev-w", "CD4ML_MODEL_DIGEST": wrong},
        "no_digest": {**SERVING_IDENTITY, **model, "CD4ML_REVISION": "rev-n"},
    }
    started = {name: Server(env, tmp_path_factory.mktemp(f"server-{name}")).start() for name, env in specs.items()}
    try:
        yield started
    finally:
        for server in started.values():
            server.stop()
