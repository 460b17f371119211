"""The traffic and feedback generator against a real model server on loopback."""

import json
import signal
import subprocess
import sys

import pytest

from churn import traffic

from conftest import ROOT, free_port, wait_until
from test_server import value


@pytest.fixture(scope="module")
def server(servers):
    servers["a"].wait_ready()
    return servers["a"]


def outcomes_total(server) -> float:
    return value(server, "cd4ml_model_outcomes", "cd4ml_model_outcomes_total", revision="rev-a")


def run(**options) -> dict:
    return traffic.Generator(traffic.Options(report_every=0, **options)).run()


def test_requests_at_a_steady_rate_with_delayed_feedback(server):
    feedback_before = outcomes_total(server)
    summary = run(url=server.url, data_version="v2", rate=20, duration=1.0, feedback_delay=0.3)
    assert summary["requests"] == summary["succeeded"] == 20  # due at 0, 0.05, ... 0.95 s
    assert summary["failures"] == {}
    # Paced, not sent in a burst: the last request was due 0.95 s after the first.
    assert summary["duration_s"] >= 0.95
    assert summary["revisions"] == {"rev-a": 20}
    assert summary["model_versions"] == {"0123456789ab": 20}
    assert sum(summary["outcomes_by_revision"]["rev-a"].values()) == 20
    assert summary["latency_ms"]["p50"] > 0 and summary["latency_ms"]["p99"] >= summary["latency_ms"]["p50"]
    assert summary["feedback"] == {"sent": 20, "failures": {}, "dropped": 0}
    assert outcomes_total(server) == feedback_before + 20


def test_failures_are_counted_by_kind(server):
    nobody = run(url=f"http://127.0.0.1:{free_port()}", data_version="v1", rate=20, duration=0.25)
    assert nobody["requests"] == 5 and nobody["failures"] == {"connection": 5}
    wrong_model = run(url=server.url, model="no-such-model", data_version="v1", rate=20, duration=0.25)
    assert wrong_model["failures"] == {"http_404": 5}
    assert wrong_model["latency_ms"] == {"p50": None, "p99": None}


def test_cli_runs_until_sigterm_and_writes_its_summary(server, tmp_path):
    summary_file = tmp_path / "summary.json"
    requests_before = value(server, "cd4ml_model_requests", "cd4ml_model_requests_total", code="200", revision="rev-a")
    process = subprocess.Popen(
        [sys.executable, "-m", "churn.traffic", "--url", server.url, "--data", "v1", "--rate", "50",
         "--feedback-delay", "60", "--summary", str(summary_file)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until(
            lambda: value(server, "cd4ml_model_requests", "cd4ml_model_requests_total", code="200", revision="rev-a")
            >= requests_before + 10,
            30,
            "the generator's requests to reach the server",
        )
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0
    summary = json.loads(stdout)
    assert summary == json.loads(summary_file.read_text())
    assert summary["interrupted"] is True
    assert summary["requests"] >= 10 and summary["failures"] == {}
    # Feedback was 60 s away: dropped on SIGTERM, not sent late.
    assert summary["feedback"]["sent"] == 0
    assert summary["feedback"]["dropped"] == summary["succeeded"]


def test_without_keep_alive_every_request_opens_its_own_connection():
    import http.server
    import threading

    peers = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive unless the client says close

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            peers.append(self.client_address)
            body = b'{"outputs": []}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        run(url=url, data_version="v1", rate=20, duration=0.5, concurrency=1)
        assert len(peers) == 10 and len(set(peers)) == 1  # one kept-alive connection
        peers.clear()
        run(url=url, data_version="v1", rate=20, duration=0.5, concurrency=1, keep_alive=False)
        assert len(peers) == 10 and len(set(peers)) == 10
    finally:
        httpd.shutdown()


def test_rejects_a_url_it_cannot_use():
    process = subprocess.run([sys.executable, "-m", "churn.traffic", "--url", "churn:80", "--rate", "1"],
                             cwd=ROOT, capture_output=True, text=True)
    assert process.returncode == 2
    assert "must be http(s)://host[:port][/prefix]" in process.stderr


def test_needs_only_the_standard_library():
    # -S: no site-packages, as in the generator's image, which installs nothing.
    process = subprocess.run([sys.executable, "-S", "-m", "churn.traffic", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert process.returncode == 0, process.stderr
