"""Run a store's Mosquitto as a child process: start, stop, kill, restart, reload.

Used by the edge node in production (``tillpi broker run``) and by the tests, which start
private brokers on free ports and kill them to inject faults::

    with LocalBroker(StoreBrokerConfig("s1", tmp_path)) as broker:
        broker.registry.add_kiosk("kiosk-01"); broker.reload()
        endpoint = broker.kiosk_endpoint("kiosk-01")
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from broker.ca import StoreCA
from broker.config import StoreBrokerConfig, validate_kiosk_id, write_broker_files
from broker.credentials import DeviceRegistry
from broker.endpoint import MqttEndpoint
from broker.errors import BrokerConfigError, BrokerNotRunningError, BrokerStartError, UnknownDeviceError

__all__ = ["LocalBroker", "find_mosquitto", "free_port"]

log = logging.getLogger(__name__)

_RELOAD_MARK = b"Reloading config."
# Logged after the signal handlers are installed: a SIGHUP before it would end Mosquitto.
_RUNNING_MARK = re.compile(rb"mosquitto version \S+ running")
_POLL = 0.01
_START_ATTEMPTS = 3


def find_mosquitto(name: str = "mosquitto") -> str:
    """The path of the Mosquitto binary (``$TILLPI_MOSQUITTO`` wins for the default name)."""
    if name == "mosquitto" and os.environ.get("TILLPI_MOSQUITTO"):
        name = os.environ["TILLPI_MOSQUITTO"]
    if os.sep in name:
        if os.access(name, os.X_OK):
            return name
        raise BrokerConfigError(f"mosquitto binary {name} is not executable")
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin"):
        candidate = Path(folder) / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise BrokerConfigError(f"mosquitto binary {name!r} not found (install mosquitto or set TILLPI_MOSQUITTO)")


def free_port(bind: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the OS picks it)."""
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((bind, 0))
        return int(sock.getsockname()[1])


def _connect_host(bind: str) -> str:
    if bind in ("0.0.0.0", "localhost"):
        return "127.0.0.1"
    if bind == "::":
        return "::1"
    return bind


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalBroker:
    """A Mosquitto process for one store, built from a :class:`StoreBrokerConfig`.

    A context manager; ``close()`` (same as ``stop()``) is idempotent. Ports of 0 in the
    config are replaced by free ports on the first ``start()`` and kept by ``restart()``.
    ``die_with_parent=True`` asks Linux to SIGTERM the broker if the starting *thread* dies
    (tests use it so that no broker outlives a killed test run).
    """

    def __init__(
        self,
        config: StoreBrokerConfig,
        *,
        mosquitto_bin: str = "mosquitto",
        die_with_parent: bool = False,
    ) -> None:
        self._config = config
        self._bin_name = mosquitto_bin
        self._die_with_parent = die_with_parent
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._log_offset = 0
        self._requested_ports = (config.edge_port, config.kiosk_port)
        self._ports_fixed = 0 not in self._requested_ports
        self.registry = DeviceRegistry(config.data_dir)

    # -- properties -----------------------------------------------------------------------
    @property
    def config(self) -> StoreBrokerConfig:
        """The settings, with the ports actually used once started."""
        return self._config

    @property
    def edge_port(self) -> int:
        return self._require_port(self._config.edge_port)

    @property
    def kiosk_port(self) -> int:
        return self._require_port(self._config.kiosk_port)

    @property
    def host(self) -> str:
        """The address the edge (and, on this machine, a kiosk) connects to."""
        return _connect_host(self._config.edge_bind)

    @property
    def kiosk_host(self) -> str:
        return _connect_host(self._config.kiosk_bind)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    def _require_port(self, port: int) -> int:
        if port == 0:
            raise BrokerNotRunningError("ports are chosen when the broker first starts")
        return port

    # -- life cycle -----------------------------------------------------------------------
    def prepare(self) -> None:
        """Make the CA, the edge login and the Mosquitto files (``start`` calls this)."""
        cfg = self._config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        StoreCA(cfg.paths.ca_dir).ensure(cfg.store_id, cfg.edge_hostnames)
        self.registry.add_edge()
        if cfg.edge_port == 0 or cfg.kiosk_port == 0:
            edge = cfg.edge_port or free_port(cfg.edge_bind if cfg.edge_bind != "localhost" else "127.0.0.1")
            kiosk = cfg.kiosk_port or free_port(cfg.kiosk_bind)
            while kiosk == edge:
                kiosk = free_port(cfg.kiosk_bind)
            self._config = cfg.with_ports(edge, kiosk)
        write_broker_files(self._config)

    def start(self, timeout: float = 10.0) -> LocalBroker:
        """Start Mosquitto and wait until every listener accepts TCP connections.

        Raises :class:`BrokerStartError` (with the log tail) if it exits or is not ready in
        ``timeout`` seconds. Starting a running broker does nothing.
        """
        if self.running:
            return self
        binary = find_mosquitto(self._bin_name)
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.prepare()
            try:
                self._spawn_and_wait(binary, timeout)
                return self
            except BrokerStartError as exc:
                port_taken = "Address already in use" in exc.log_tail
                if port_taken and not self._ports_fixed and attempt < _START_ATTEMPTS:
                    # Someone took a port we picked between picking and binding: pick again.
                    log.warning("picked port was taken, retrying with new ports")
                    self._config = self._config.with_ports(*self._requested_ports)
                    continue
                raise
        raise BrokerStartError("mosquitto did not start")  # pragma: no cover - loop always returns/raises

    def _spawn_and_wait(self, binary: str, timeout: float) -> None:
        paths = self._config.paths
        self._log_offset = paths.log_file.stat().st_size if paths.log_file.exists() else 0
        self._close_stderr()
        self._stderr = open(paths.stderr_file, "ab")  # noqa: SIM115 - closed in stop()
        self._stderr_offset = self._stderr.tell()
        self._proc = subprocess.Popen(
            [binary, "-c", str(paths.conf_file)],
            stdin=subprocess.DEVNULL,
            stdout=self._stderr,
            stderr=self._stderr,
            cwd=str(self._config.data_dir),
            start_new_session=True,  # Ctrl-C in a terminal reaches the CLI, which stops us cleanly
            preexec_fn=_die_with_parent if self._die_with_parent else None,  # noqa: PLW1509
        )
        listeners = [(self.host, self.edge_port), (self.kiosk_host, self.kiosk_port)]
        deadline = time.monotonic() + timeout
        pending = list(listeners)
        while pending or not _RUNNING_MARK.search(self._log_bytes()):
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise BrokerStartError(f"mosquitto exited with code {code} while starting", self.log_tail())
            if pending:
                host, port = pending[0]
                try:
                    with socket.create_connection((host, port), timeout=0.5):
                        pass
                    pending.pop(0)
                    continue
                except OSError as exc:
                    if exc.errno not in (errno.ECONNREFUSED, errno.ECONNRESET, None):
                        log.debug("probe of %s:%s failed: %s", host, port, exc)
            if time.monotonic() > deadline:
                tail = self.log_tail()
                self.kill()
                what = f"listen on {pending}" if pending else "report itself running"
                raise BrokerStartError(f"mosquitto did not {what} within {timeout} s", tail)
            time.sleep(_POLL)
        log.info(
            "store %s broker up (pid %s): edge %s:%s, kiosk %s:%s%s",
            self._config.store_id, self._proc.pid, self.host, self.edge_port, self.kiosk_host,
            self.kiosk_port, " (TLS)" if self._config.kiosk_tls else " (plain)",
        )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait: Mosquitto writes its persistence file before it exits."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("mosquitto (pid %s) ignored SIGTERM for %s s; killing it", proc.pid, timeout)
                proc.kill()
                proc.wait()
            log.info("store %s broker stopped", self._config.store_id)
        self._proc = None
        self._close_stderr()

    def terminate(self) -> None:
        """Send SIGTERM and return at once (``stop()`` or ``wait()`` then waits)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, no chance to save (fault tests: what was not autosaved is lost)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
            log.info("store %s broker killed", self._config.store_id)
        self._proc = None
        self._close_stderr()

    def restart(self, timeout: float = 10.0) -> None:
        """Stop if running, then start again on the same ports and data folder."""
        self.stop()
        self._ports_fixed = True
        self.start(timeout)

    def reload(self, timeout: float = 5.0) -> None:
        """SIGHUP: Mosquitto re-reads its password file and ACL; waits until it has."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            raise BrokerNotRunningError("the broker is not running")
        before = self._log_bytes().count(_RELOAD_MARK)
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while self._log_bytes().count(_RELOAD_MARK) <= before:
            if proc.poll() is not None:
                raise BrokerStartError("mosquitto exited while reloading", self.log_tail())
            if time.monotonic() > deadline:
                raise BrokerStartError(f"mosquitto did not reload within {timeout} s", self.log_tail())
            time.sleep(_POLL)
        log.info("store %s broker reloaded its configuration", self._config.store_id)

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def wait(self) -> int:
        """Block until the broker process exits (the CLI's foreground mode); its exit code."""
        proc = self._proc
        if proc is None:
            raise BrokerNotRunningError("the broker is not running")
        return proc.wait()

    # -- endpoints ------------------------------------------------------------------------
    def edge_endpoint(self) -> MqttEndpoint:
        """Loopback, plain MQTT, as the edge user."""
        return self.registry.add_edge().endpoint(self.host, self.edge_port, tls=False)

    def kiosk_endpoint(self, kiosk_id: str) -> MqttEndpoint:
        """The kiosk listener with that kiosk's login; TLS with the store CA and its client
        certificate unless the kiosk listener is plain. Enrols the kiosk if needed (and
        reloads a running broker so it knows the new login)."""
        validate_kiosk_id(kiosk_id)
        try:
            creds = self.registry.kiosk(kiosk_id)
        except UnknownDeviceError:
            creds = self.registry.add_kiosk(kiosk_id)
            if self.running:
                self.reload()
        return creds.endpoint(self.kiosk_host, self.kiosk_port, tls=self._config.kiosk_tls)

    # -- diagnostics ----------------------------------------------------------------------
    def _log_bytes(self) -> bytes:
        try:
            with open(self._config.paths.log_file, "rb") as handle:
                if os.fstat(handle.fileno()).st_size < self._log_offset:
                    self._log_offset = 0  # the log was truncated or rotated since we started
                handle.seek(self._log_offset)
                return handle.read()
        except FileNotFoundError:
            return b""

    def log_tail(self, lines: int = 30) -> str:
        """The last lines Mosquitto wrote since this start (log file, then stderr)."""
        text = self._log_bytes().decode("utf-8", "replace").splitlines()[-lines:]
        try:
            with open(self._config.paths.stderr_file, "rb") as handle:
                handle.seek(getattr(self, "_stderr_offset", 0))
                err = handle.read().decode("utf-8", "replace").splitlines()[-lines:]
        except FileNotFoundError:
            err = []
        return "\n".join(text + (["--- stderr ---", *err] if err else []))

    def _close_stderr(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"LocalBroker(store={self._config.store_id!r}, {state}, data={self._config.data_dir})"
