"""salon.testing.RedisServer against the real redis-server binary (CI installs it; missing is a failure).

The server is talked to in Redis' inline protocol over a plain socket, as the kernel has no redis-py.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest

from salon.testing import RedisServer, RedisServerError, RedisTlsFiles


def ask(port: int, command: str) -> str:
    """Send one inline command; the first line of the answer (``+PONG``, ``+OK``, ``$1``, ``$-1``...)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(command.encode() + b"\r\n")
        return sock.recv(1024).decode().split("\r\n")[0]


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_answers_on_its_port_and_is_gone_afterwards() -> None:
    with RedisServer() as server:
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        assert ask(server.port, "PING") == "+PONG"
        workdir = server.workdir
        assert workdir.is_dir()
    assert not server.running
    assert refused(server.port)
    assert not workdir.exists(), "the temporary directory it made is removed"


def test_not_persistent_by_default_so_a_restart_forgets() -> None:
    with RedisServer() as server:
        assert not server.persistent
        assert ask(server.port, "SET k v") == "+OK"
        server.stop()
        assert refused(server.port)
        server.start()
        assert ask(server.port, "GET k") == "$-1"
        assert list(server.workdir.iterdir()) == [server.log_path], "nothing but the log is written"


def test_persistent_keeps_data_across_a_restart_on_the_same_port(tmp_path: Path) -> None:
    with RedisServer(persistent=True, workdir=tmp_path) as server:
        port = server.port
        assert server.persistent
        assert ask(port, "SET k v") == "+OK"
        server.stop()
        server.start()
        assert server.port == port
        assert ask(port, "GET k") == "$1"
    assert tmp_path.is_dir(), "a directory given by the caller is left in place"
    assert "Ready to accept connections" in (tmp_path / "redis.log").read_text()


def test_extra_args_reach_the_server() -> None:
    with (
        RedisServer(extra_args=["--maxmemory", "12mb"]) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
    ):
        sock.sendall(b"CONFIG GET maxmemory\r\n")
        assert b"12582912" in sock.recv(1024)


def test_starting_twice_is_refused() -> None:
    with RedisServer() as server, pytest.raises(RedisServerError, match="already running"):
        server.start()


def test_a_server_that_cannot_start_fails_with_its_log() -> None:
    server = RedisServer(extra_args=["--no-such-directive", "1"])
    with pytest.raises(RedisServerError, match=r"exited with status \d+ before answering:\n(?s:.*)no-such-directive"):
        server.__enter__()
    assert not server.running
    assert not server.workdir.exists()


def test_a_taken_port_is_replaced_on_the_first_start() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        server = RedisServer()
        server.port = int(squatter.getsockname()[1])
        with server:
            assert server.port != squatter.getsockname()[1]
            assert ask(server.port, "PING") == "+PONG"


def test_a_missing_binary_is_an_error_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RedisServerError, match=r"redis-server is not installed: install it \(apt-get install"):
        RedisServer()


def test_tls_only(tmp_path: Path) -> None:
    files = RedisTlsFiles.for_localhost(tmp_path)
    assert files.ca_file == tmp_path / "ca.crt"
    with RedisServer(tls=files) as server:
        assert server.url == f"rediss://127.0.0.1:{server.port}/0?ssl_ca_certs={tmp_path / 'ca.crt'}"
        context = ssl.create_default_context(cafile=str(files.ca_file))
        with (
            socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            tls.sendall(b"PING\r\n")
            assert tls.recv(64) == b"+PONG\r\n"
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as plain:
            plain.sendall(b"PING\r\n")  # plaintext to a TLS-only port: no PONG
            try:
                answer = plain.recv(64)
            except ConnectionResetError:
                answer = b""
            assert b"PONG" not in answer
