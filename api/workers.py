"""`creditlink serve` with several worker processes on one port.

uvicorn's supervisor binds the port once and spawns `CREDITLINK_WORKERS` processes that
each build the app (`worker_app`) and accept connections on the shared socket. It
replaces a worker that dies, saying so in its log, and on SIGTERM or SIGINT asks every
worker to stop gracefully. Each worker owns its Neo4j driver, its record buffers and
their journal segments, its event tail and its metrics files; what the workers share
goes through Neo4j (records, feedback, events) or the metrics directory, exactly as
separate API processes on several machines do.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
from pathlib import Path

from starlette.applications import Starlette
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from api.server import server_config
from api.settings import Settings

# prometheus_client's multiprocess mode: each worker writes its samples under this
# directory, and whichever answers /metrics sums them (api.metrics)
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def metrics_dir(settings: Settings) -> Path:
    return settings.data_dir / "run" / f"metrics-{settings.port}"


def worker_app() -> Starlette:
    """The app as each worker builds it, from the environment the supervisor passed on."""
    from api.app import create_app
    from api.logging_setup import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    app = create_app(settings)
    # as `creditlink serve` does for one process (docs/adr/0005-gc-freeze-at-start.md)
    gc.collect()
    gc.freeze()
    return app


class Supervisor(Multiprocess):
    """uvicorn's supervisor, which stops listening before it stops its workers: each
    worker closes its copy of the socket as its graceful stop begins, and with this one
    open the kernel would go on taking connections that no process will serve."""

    def terminate_all(self) -> None:
        for sock in self.sockets:
            sock.close()
        super().terminate_all()


def run_workers(settings: Settings) -> int:
    """Serve with `settings.workers` processes until told to stop; the exit status."""
    directory = metrics_dir(settings)
    # samples of an earlier run's workers would be summed into this one's
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[METRICS_DIR_VARIABLE] = str(directory)
    config = server_config(
        f"{__name__}:worker_app", settings, workers=settings.workers, factory=True
    )
    # the supervisor's own lines (a worker started, died, replaced) are the operator's
    logging.getLogger("uvicorn.error").setLevel(logging.INFO)
    supervisor = Supervisor(config, sockets=[config.bind_socket()])
    supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        return 3  # as uvicorn: a worker could not start, so the supervisor gave up
    return 0
