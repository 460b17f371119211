"""The serving image of the real-node tests: it answers every request with the
revision and model version the operator injected into its environment, so a
test can tell which revision served each request, and has a real readiness
endpoint that a test can keep failing. GET /metrics (Prometheus text format)
counts the requests it answered, probes and scrapes left out, so a test can
compare the server's count with its client's:
  echo_requests_total{release,revision,model_version}

Environment:
  CD4ML_RELEASE, CD4ML_REVISION, CD4ML_MODEL_VERSION  injected by the operator
  PORT                   listening port (default 8080; 0: any free one, printed)
  BIND_ADDRESS           address to listen on (default: all)
  ECHO_NEVER_READY=1     /ready always answers 503: a revision that never becomes ready
  ECHO_READY_DELAY       seconds after start before /ready answers 200 (default 0)
  ECHO_DRAIN_SECONDS     after SIGTERM, keep serving this long with /ready at 503,
                         as a server behind a Service should (default 0: exit at once)
"""

import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STARTED = time.monotonic()
NEVER_READY = os.environ.get("ECHO_NEVER_READY") == "1"
READY_DELAY = float(os.environ.get("ECHO_READY_DELAY", "0"))
DRAIN_SECONDS = float(os.environ.get("ECHO_DRAIN_SECONDS", "0"))
IDENTITY = {
    "release": os.environ.get("CD4ML_RELEASE", ""),
    "revision": os.environ.get("CD4ML_REVISION", ""),
    "modelVersion": os.environ.get("CD4ML_MODEL_VERSION", ""),
    "pod": socket.gethostname(),
}
stopping = threading.Event()
answered = 0
answered_lock = threading.Lock()


def count_answer():
    global answered
    with answered_lock:
        answered += 1


def label_value(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics() -> bytes:
    names = (("release", "release"), ("revision", "revision"), ("model_version", "modelVersion"))
    labels = ",".join(f'{name}="{label_value(IDENTITY[key])}"' for name, key in names)
    with answered_lock:
        count = answered
    return (
        "# HELP echo_requests_total Requests answered (not probes or scrapes).\n"
        "# TYPE echo_requests_total counter\n"
        f"echo_requests_total{{{labels}}} {count}\n"
    ).encode()


def ready() -> bool:
    return not NEVER_READY and not stopping.is_set() and time.monotonic() - STARTED >= READY_DELAY


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (the stdlib's name)
        if self.path == "/ready":
            self.answer(200 if ready() else 503, {"ready": ready()})
        elif self.path == "/live":
            self.answer(200, {"live": True})
        elif self.path == "/metrics":
            self.send_body(200, metrics(), "text/plain; version=0.0.4; charset=utf-8")
        else:
            self.answer(200, IDENTITY)
            count_answer()

    def answer(self, code, body):
        self.send_body(code, (json.dumps(body) + "\n").encode(), "application/json")

    def send_body(self, code, data, content_type):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Cd4ml-Revision", IDENTITY["revision"])
        self.send_header("X-Cd4ml-Model-Version", IDENTITY["modelVersion"])
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):  # one line per probe would drown the pod log
        pass


def main():
    server = ThreadingHTTPServer(
        (os.environ.get("BIND_ADDRESS", ""), int(os.environ.get("PORT", "8080"))), Handler
    )
    server.daemon_threads = True

    def on_term(signo, frame):
        stopping.set()
        # shutdown() waits for serve_forever, so it runs on its own thread.
        threading.Timer(DRAIN_SECONDS, server.shutdown).start()

    signal.signal(signal.SIGTERM, on_term)
    print(f"echo-server {json.dumps(IDENTITY)} on :{server.server_address[1]}", flush=True)
    server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
