"""A private ``redis-server`` for tests: started on a free 127.0.0.1 port, stopped and cleaned up after.

Tests of Redis-backed plugins (stores, the distributed runtime, teams across worker processes) need a
real server, and a shared one would let tests disturb each other. :class:`RedisServer` runs the
``redis-server`` binary with no persistence by default, in a directory of its own, and waits until it
answers ``PING`` (not merely until the port is open: a server still loading its append-only file
answers ``-LOADING``), so the first command of a test never races the start.

A missing binary or a server that does not come up raises :class:`RedisServerError` with the server's
log and the way to fix it: a test needing Redis fails rather than skips, so a machine without Redis
cannot pass a suite by skipping it (CI installs ``redis-server``; developers run
``apt-get install redis-server``). Standard library only: the kernel does not depend on redis-py.

Example (a session fixture)::

    @pytest.fixture(scope="session")
    def redis_url() -> Iterator[str]:
        with RedisServer() as server:
            yield server.url

A server can be stopped and started again on the same port and directory (:meth:`RedisServer.stop`,
:meth:`RedisServer.start`), which is how a test simulates a Redis restart; with ``persistent=True``
its data survives that.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self

__all__ = ["RedisServer", "RedisServerError", "RedisTlsFiles"]

_INSTALL_HINT = "install it (apt-get install redis-server, or brew install redis) and put it on PATH"
_LOG_TAIL_CHARS = 2000
_PORT_ATTEMPTS = 3  # a free port can be taken by another process before redis binds it; then try another


class RedisServerError(RuntimeError):
    """``redis-server`` is missing, or did not start and answer in time (the message holds its log)."""


@dataclass(frozen=True)
class RedisTlsFiles:
    """The files of a TLS-only server: its certificate and key, and the CA that signed the certificate.

    Attributes:
        cert_file: The server's certificate (PEM).
        key_file: The certificate's private key (PEM).
        ca_file: The CA certificate clients verify the server with; :attr:`RedisServer.url` names it.
    """

    cert_file: Path
    key_file: Path
    ca_file: Path

    @classmethod
    def for_localhost(cls, directory: Path) -> RedisTlsFiles:
        """Make a throwaway CA and a certificate it signs for ``127.0.0.1``, valid one day, in ``directory``.

        Uses the ``openssl`` command, so the test needs no cryptography package.

        Raises:
            RedisServerError: ``openssl`` is not installed.
            subprocess.CalledProcessError: ``openssl`` refused (its ``stderr`` says why).
        """
        if shutil.which("openssl") is None:
            raise RedisServerError("openssl is needed to make test certificates: install it (apt-get install openssl).")

        def openssl(*args: str) -> None:
            subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=60)

        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=salon-test-ca",
                "-keyout", "ca.key", "-out", "ca.crt")  # fmt: skip
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
        # Clients check the address they dialled against the certificate's subjectAltName, not its CN.
        (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "1", "-extfile", "san.ext", "-out", "server.crt")  # fmt: skip
        return cls(cert_file=directory / "server.crt", key_file=directory / "server.key", ca_file=directory / "ca.crt")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A ``redis-server`` process of the caller's own on 127.0.0.1; a context manager.

    Entering starts it (see :meth:`start`); leaving stops it and removes the directory it made. Reuse
    after leaving is not supported: make a new one.

    Args:
        persistent: Keep an append-only file, synced on every write, so that data survives
            :meth:`stop` and :meth:`start`. By default nothing is ever written to disk (``--save ''``,
            ``--appendonly no``).
        workdir: The server's directory (its log ``redis.log`` and any data files). By default a new
            temporary directory, removed by :meth:`close`; a given directory is left in place.
        tls: Serve TLS only (no plaintext port), with these files; the clients need not present a
            certificate.
        extra_args: More ``redis-server`` arguments, e.g. ``["--maxmemory", "10mb"]``.
        start_timeout: Seconds to wait for the server to answer ``PING`` before giving up.

    Attributes:
        port: The port the server listens on (its TLS port with ``tls``); fixed for its lifetime.
        workdir: The server's directory.
        log_path: The file receiving the server's output.

    Raises:
        RedisServerError: ``redis-server`` is not on ``PATH`` (raised at construction).
    """

    def __init__(
        self,
        *,
        persistent: bool = False,
        workdir: Path | None = None,
        tls: RedisTlsFiles | None = None,
        extra_args: Sequence[str] = (),
        start_timeout: float = 15.0,
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisServerError(f"redis-server is not installed: {_INSTALL_HINT}. These tests need a real one.")
        self._binary = binary
        self._persistent = persistent
        self._tls = tls
        self._extra_args = list(extra_args)
        self._start_timeout = start_timeout
        self._owns_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="salon-redis-")) if workdir is None else workdir
        self.log_path = self.workdir / "redis.log"
        self.port = _free_port()
        self._started_once = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL clients connect with: ``redis://127.0.0.1:PORT/0``, or ``rediss://...?ssl_ca_certs=CA``.

        The TLS form names the CA file in redis-py's ``ssl_ca_certs`` query parameter, so
        ``redis.Redis.from_url(server.url)`` verifies the server without more arguments.
        """
        if self._tls is None:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={self._tls.ca_file}"

    @property
    def persistent(self) -> bool:
        """Whether the server keeps an append-only file (its data survives a restart)."""
        return self._persistent

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start the server (again, after :meth:`stop`: same port and directory) and wait until it answers.

        On the first start only, a port taken by another process between choosing it and the server
        binding it is replaced by a new free port; a restart keeps its port, as clients hold its URL.

        Raises:
            RedisServerError: the server is already running, exited, or did not answer ``PING`` within
                ``start_timeout`` (the message holds the end of its log).
        """
        if self.running:
            raise RedisServerError(f"redis-server on port {self.port} is already running; stop() it first.")
        attempts = 1 if self._started_once else _PORT_ATTEMPTS
        for attempt in range(attempts):
            self._spawn()
            try:
                self._wait_until_answering()
            except RedisServerError:
                taken = "Address already in use" in self._log_tail()
                self.stop()
                if taken and attempt + 1 < attempts:
                    self.port = _free_port()
                    continue
                raise
            self._started_once = True
            return

    def stop(self) -> None:
        """Stop the server (``SIGTERM``, then ``SIGKILL`` after 10 seconds); nothing happens if it is not running."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def close(self) -> None:
        """Stop the server and remove its directory if this object created it."""
        self.stop()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _command(self) -> list[str]:
        command = [self._binary, "--bind", "127.0.0.1", "--dir", str(self.workdir), "--save", ""]
        if self._persistent:
            command += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            command += ["--appendonly", "no"]
        if self._tls is None:
            command += ["--port", str(self.port)]
        else:
            command += ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no"]
            command += ["--tls-cert-file", str(self._tls.cert_file), "--tls-key-file", str(self._tls.key_file)]
            command += ["--tls-ca-cert-file", str(self._tls.ca_file)]
        return command + self._extra_args

    def _spawn(self) -> None:
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            self._command(), cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )

    def _wait_until_answering(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self._start_timeout
        last_answer = "no connection"
        while True:
            code = self._proc.poll()
            if code is not None:
                raise RedisServerError(f"redis-server exited with status {code} before answering:\n{self._log_tail()}")
            last_answer = self._ping()
            if last_answer == "+PONG":
                return
            if time.monotonic() > deadline:
                raise RedisServerError(
                    f"redis-server on port {self.port} did not answer PING within {self._start_timeout:g}s "
                    f"(last answer: {last_answer}):\n{self._log_tail()}"
                )
            time.sleep(0.02)

    def _ping(self) -> str:
        """Send ``PING`` in Redis' inline form; the first line of the answer, or what went wrong."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as raw:
                if self._tls is None:
                    return _ask_ping(raw)
                context = ssl.create_default_context(cafile=str(self._tls.ca_file))
                with context.wrap_socket(raw, server_hostname="127.0.0.1") as wrapped:
                    return _ask_ping(wrapped)
        except OSError as e:  # refused while starting, reset, TLS handshake not ready yet
            return f"{type(e).__name__}: {e}"

    def _log_tail(self) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text.strip()[-_LOG_TAIL_CHARS:] or "(the log is empty)"


def _ask_ping(sock: socket.socket) -> str:
    sock.sendall(b"PING\r\n")
    answer = b""
    while not answer.endswith(b"\r\n"):
        received = sock.recv(256)
        if not received:
            break
        answer += received
    return answer.decode(errors="replace").strip()
