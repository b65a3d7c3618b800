"""Security through the connection URL: an ACL user confined to its namespace, and TLS (``rediss://``)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from salon import AgentId, MessageContext, RoutedAgent, message_handler
from salon_redis import RedisAgentRuntime


@dataclass
class Echo:
    """Answered with its text."""

    text: str


class Echoer(RoutedAgent):
    """Answers an echo with its text."""

    def __init__(self) -> None:
        super().__init__("echoes")

    @message_handler
    async def on_echo(self, message: Echo, ctx: MessageContext) -> str:
        """The text."""
        return message.text


@pytest.fixture
def tenant(redis_url: str) -> Iterator[tuple[str, str]]:
    """An ACL user that may touch only the keys of namespace ``tenant-<id>``: (its URL, that namespace)."""
    namespace = f"tenant-{uuid.uuid4().hex[:8]}"
    user, password = f"u{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser(user, enabled=True, passwords=[f"+{password}"], keys=[f"salon:{namespace}:*"], commands=["+@all"])
    try:
        yield redis_url.replace("redis://", f"redis://{user}:{password}@"), namespace
    finally:
        admin.acl_deluser(user)
        admin.close()


async def test_an_acl_user_works_in_its_namespace_and_is_refused_outside_it(tenant: tuple[str, str]) -> None:
    url, namespace = tenant
    runtime = RedisAgentRuntime(url, namespace=namespace)
    await Echoer.register(runtime, "echo", Echoer)
    await runtime.start()
    try:
        assert await runtime.send_message(Echo("inside"), AgentId("echo", "k")) == "inside"
    finally:
        await runtime.close()
    outsider = RedisAgentRuntime(url, namespace="someone-else")
    with pytest.raises(redis.exceptions.NoPermissionError):
        await Echoer.register(outsider, "echo", Echoer)
    await outsider.close()


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture
def tls_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server that speaks TLS only, with a CA and a server certificate made for the test."""
    binary, openssl = shutil.which("redis-server"), shutil.which("openssl")
    if binary is None or openssl is None:
        pytest.fail("redis-server and openssl are needed (apt-get install redis-server openssl)")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=tmp_path)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
             "-out", "server.csr", cwd=tmp_path)  # fmt: skip
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "1", "-extfile", "san.ext", "-out", "server.crt", cwd=tmp_path)  # fmt: skip
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    command = [
        binary,
        "--port",
        "0",
        "--tls-port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--dir",
        str(tmp_path),
    ]
    command += ["--tls-cert-file", "server.crt", "--tls-key-file", "server.key", "--tls-ca-cert-file", "ca.crt"]
    command += ["--tls-auth-clients", "no"]
    proc = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={tmp_path / 'ca.crt'}"
    try:
        client = redis.Redis.from_url(url, socket_timeout=1)
        deadline = time.monotonic() + 15
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the TLS redis-server did not start")
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


async def test_a_cluster_over_tls(tls_url: str) -> None:
    runtime = RedisAgentRuntime(tls_url, namespace="tls")
    await Echoer.register(runtime, "echo", Echoer)
    await runtime.start()
    try:
        assert await runtime.send_message(Echo("encrypted"), AgentId("echo", "k")) == "encrypted"
    finally:
        await runtime.close()
    plain = RedisAgentRuntime(tls_url.split("?")[0].replace("rediss://", "redis://"), namespace="tls")
    with pytest.raises(ConnectionError, match="Cannot reach Redis"):  # a plain client cannot talk to it
        await plain.start()
    await plain.stop()
    await plain.close()
