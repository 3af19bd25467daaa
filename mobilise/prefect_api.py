"""The temporary Prefect API a run starts when no Prefect server is configured, started early and cheaply.

Prefect's own (``prefect.server.api.server.SubprocessASGIServer``) costs the run twice: importing it loads the
whole server package into the run's process (~1.6 s here), and it is only started once the flow is about to run,
so its ~2.5 s boot (uvicorn, the server's imports, the database check) comes on top of the run's own imports and
config. :class:`TemporaryAPI` runs the same command (uvicorn with ``prefect.server.api.server:create_app`` and the
same environment: UI off, ephemeral mode) without importing the server, and :func:`launch_early` starts it as
soon as the command line has a valid config, so it boots while the run imports the pipeline; the flow then waits
(:meth:`TemporaryAPI.start`) only for what is left, up to Prefect's own
``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``.

The server gets SIGTERM from Linux when the run's process ends, however it ends
(:func:`mobilise.processes.child_command`), and runs in a session of its own: a Ctrl-C to the process group does
not stop it before the run has recorded that it was cancelled. A configured server (``PREFECT_API_URL``, e.g.
``prefect server start`` left running) is always used instead and saves the boot altogether.
"""
from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from mobilise import processes

log = logging.getLogger("mobilise")

PORT_IN_USE = 3  # uvicorn's exit status when its port is taken

# Prefect settings of the temporary server unless the environment sets them. It serves one run, which uses no
# blocks: registering the block types on start would import every installed Prefect collection first, to see
# whether they changed (prefect_dask, so distributed: ~0.3 s CPU of a ~4 s boot). A block saved through this
# server still registers its type, as Prefect documents.
SERVER_DEFAULTS = {"PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
                   "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false"}


class TemporaryAPI:
    """One temporary Prefect API server on 127.0.0.1 (``launch``: started, ``start``: answering), ``stop``ped
    by the run (last) or with the run's process."""

    def __init__(self) -> None:
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.running = False  # launched and not stopped (Prefect's attribute name)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def launch(self) -> None:
        """Start the server process on a free port, without waiting for it."""
        self.port = _free_port()
        prefect_dir = Path(importlib.util.find_spec("prefect").origin).parent
        command = processes.child_command(
            "uvicorn", "--app-dir", str(prefect_dir.parent), "--factory", "prefect.server.api.server:create_app",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on")
        environment = {**SERVER_DEFAULTS, **os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
                       "PREFECT__SERVER_FINAL": "1", **_explicit_settings()}
        self.process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, start_new_session=True)
        self.running = True
        self.launched_at = time.monotonic()
        atexit.register(self.stop)

    def start(self, timeout: float | None = None) -> None:
        """Launch the server if it is not yet, and wait until it answers ``/health`` (at most `timeout` seconds,
        by default ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``). Raises RuntimeError when it does not."""
        import httpx
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

        if self.process is None:
            self.launch()
        log.info("Starting temporary server on %s (no PREFECT_API_URL configured)", self.api_url)
        deadline = time.monotonic() + (timeout or PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                status = self.process.poll()
                if status == PORT_IN_USE:  # taken between _free_port and uvicorn's bind: another port
                    self.launch()
                    continue
                if status is not None:
                    break
                try:
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        log.debug("Prefect API answered %.2f s after its launch",
                                  time.monotonic() - self.launched_at)
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        status = self.process.poll()
        self.stop()
        raise RuntimeError("Timed out while attempting to connect to the temporary Prefect API server"
                           + (f" (it exited with status {status})" if status is not None else ""))

    def stop(self) -> None:
        """Stop the server (SIGTERM, SIGKILL after 5 s); nothing if it is not running."""
        process, self.process, self.running = self.process, None, False
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_early: list[TemporaryAPI] = []


def launch_early() -> None:
    """Launch the temporary API now when the run will need one (no ``PREFECT_API_URL`` in the environment), so
    that it boots while the run imports and plans; :func:`temporary_api` hands it to the run. Call it from the
    main thread (:func:`mobilise.processes.child_command`)."""
    if os.environ.get("PREFECT_API_URL") or _early:
        return
    if "prefect.settings" in sys.modules:  # Prefect already loaded (a caller's settings, a test harness): ask it
        from prefect.settings import PREFECT_API_URL

        if PREFECT_API_URL.value():
            return
    server = TemporaryAPI()
    server.launch()
    _early.append(server)


def temporary_api() -> TemporaryAPI:
    """The server :func:`launch_early` launched (still running), else a new one, not yet launched."""
    while _early:
        server = _early.pop()
        if server.running and server.process is not None and server.process.poll() is None:
            return server
        server.stop()
    return TemporaryAPI()


def discard_early() -> None:
    """Stop a server launched early that the run will not use (a Prefect profile names an API after all)."""
    while _early:
        _early.pop().stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _explicit_settings() -> dict[str, str]:
    """The Prefect settings set in this process (Prefect passes them to its server the same way), when Prefect is
    already imported; otherwise the server reads the same environment and profile as this process would."""
    if "prefect.settings" not in sys.modules:
        return {}
    from prefect.settings import get_current_settings

    return get_current_settings().to_environment_variables(exclude_unset=True)
