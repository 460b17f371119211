"""Entry point of the serving container: `mlserver start`, plus an honest exit.

`mlserver start` shuts down with status 0 when its model fails to load, so the
pod would look like a clean exit. This runs the same server and, when the churn
model could not be loaded (wrong digest, missing or foreign file), writes the
reason to the termination message and exits 1: `kubectl describe pod` then
shows why the pod never became ready.

    python -m churn.serve [SETTINGS_DIR]      # default: the serving/ folder beside the package
"""

from __future__ import annotations

import asyncio
import os
import sys

from mlserver.cli.serve import load_settings
from mlserver.logging import configure_logger
from mlserver.server import MLServer
from mlserver.utils import install_uvloop_event_loop

from churn import server, termination

DEFAULT_SETTINGS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "serving")


async def _serve(folder: str) -> None:
    settings, models_settings = await load_settings(folder)
    await MLServer(settings).start(models_settings)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    configure_logger()
    install_uvloop_event_loop()
    asyncio.run(_serve(args[0] if args else DEFAULT_SETTINGS_DIR))
    if server.load_failure:
        termination.write(termination.one_line(f"model not loaded: {server.load_failure}"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
