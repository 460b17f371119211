"""The container's termination message: how a pod tells Kubernetes its result.

The kubelet copies the file (default /dev/termination-log) into the pod's
status, keeping at most 4096 bytes; the operator reads the trainer's result
from there, and a server that cannot load its model says why there too.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping

DEFAULT_PATH = "/dev/termination-log"
LIMIT = 4096  # bytes


def write(text: str, env: Mapping[str, str] = os.environ) -> None:
    path = env.get("CD4ML_TERMINATION_LOG") or DEFAULT_PATH
    data = text.encode("utf-8")[:LIMIT].decode("utf-8", errors="ignore").encode("utf-8")
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        # Outside Kubernetes there may be no termination log; stdout has it too.
        print(f"warning: cannot write termination message to {path}: {e.strerror}", file=sys.stderr)


def one_line(message: str) -> str:
    # The TrainingRun's status and `kubectl describe pod` show it as one line.
    return " ".join(message.split())
