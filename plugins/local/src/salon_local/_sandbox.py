"""The bubblewrap sandbox: how a command line is wrapped so the code in it is contained and limited."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SANDBOX_UID", "SANDBOX_WORK_DIR", "SandboxLimits", "bwrap_path", "limit_command", "sandbox_command"]

SANDBOX_UID = 65534
"""The uid and gid sandboxed code runs as when the caller is root (``nobody`` / ``nogroup``)."""

SANDBOX_WORK_DIR = "/workspace"
"""Where the working directory is mounted inside the sandbox (code sees it as its current directory)."""

# Top-level entries of the host's root that are not bound into the sandbox: it gets fresh ones.
_FRESH = frozenset({"proc", "dev", "tmp", "sys", "run", "workspace", "lost+found"})


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for sandboxed code (``setrlimit`` limits, inherited by every process the code starts).

    Attributes:
        cpu_seconds: CPU time of each process; past it the kernel kills the process (SIGXCPU, then SIGKILL).
        memory_bytes: Address space of each process (``RLIMIT_AS``); allocations past it fail.
        max_processes: Processes and threads the sandbox uid may have at once (``RLIMIT_NPROC``).
        max_file_size_bytes: The largest file the code may write (``RLIMIT_FSIZE``).
    """

    cpu_seconds: int = 60
    memory_bytes: int = 2 * 1024**3
    max_processes: int = 256
    max_file_size_bytes: int = 256 * 1024**2

    def __post_init__(self) -> None:
        for name in ("cpu_seconds", "memory_bytes", "max_processes", "max_file_size_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"SandboxLimits.{name} must be positive, got {getattr(self, name)}")


def bwrap_path() -> str | None:
    """The path of the ``bwrap`` program, or ``None`` when bubblewrap is not installed."""
    return shutil.which("bwrap")


def limit_command(limits: SandboxLimits) -> list[str]:
    """The ``prlimit`` prefix that applies ``limits`` to the command after it (and everything it starts)."""
    prlimit = shutil.which("prlimit") or "prlimit"
    return [
        prlimit,
        # SIGXCPU at the soft limit (the note names it), SIGKILL a second later should it be caught.
        f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}",
        f"--as={limits.memory_bytes}",
        f"--nproc={limits.max_processes}",
        f"--fsize={limits.max_file_size_bytes}",
        "--",
    ]


def _root_binds(as_root: bool, needed: Sequence[str]) -> list[str]:
    """Read-only binds of the host's top-level directories (symlinks kept as symlinks).

    As root, the code runs as another uid, which cannot pass through a top-level directory closed to
    others (``/root`` is 0700): such a directory becomes an empty tmpfs, into which only the ``needed``
    paths under it (the Python installation) are bound. Its other contents stay hidden.
    """
    args: list[str] = []
    hidden: list[Path] = []
    for name in sorted(os.listdir("/")):
        if name in _FRESH:
            continue
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            if as_root and not path.stat().st_mode & stat.S_IXOTH:
                args += ["--perms", "0755", "--tmpfs", str(path)]
                hidden.append(path)
            else:
                args += ["--ro-bind", str(path), str(path)]
    if as_root:
        # A needed path deeper under a directory closed to others (a pytest or nox temporary directory):
        # that directory becomes an empty tmpfs too, with the needed paths bound back in.
        for extra in needed:
            closed = _closed_ancestor(Path(extra))
            if closed is None or closed.parts[1] in _FRESH:  # under /tmp: bound after the fresh /tmp
                continue
            if not any(closed.is_relative_to(top) for top in hidden):
                args += ["--perms", "0755", "--tmpfs", str(closed)]
                hidden.append(closed)
    return args + _needed_binds(hidden, needed)


def _closed_ancestor(path: Path) -> Path | None:
    """The outermost directory above ``path`` that others may not pass through, if any."""
    for parent in reversed(path.parents):
        if parent == parent.parent:
            continue
        try:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return parent
        except OSError:
            return None
    return None


def _needed_binds(hidden: Sequence[Path], needed: Sequence[str]) -> list[str]:
    """Read-only binds of the ``needed`` paths that lie under one of the ``hidden`` directories."""
    args: list[str] = []
    for extra in dict.fromkeys(needed):
        extra_path = Path(extra)
        top = next((top for top in hidden if extra_path.is_relative_to(top)), None)
        if top is None or not extra_path.exists():
            continue
        # bubblewrap would make the directories on the way 0700; make them passable first.
        for parent in reversed(extra_path.parents):
            if parent != top and parent.is_relative_to(top):
                args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", str(extra_path), str(extra_path)]
    return args


def sandbox_command(
    bwrap: str,
    work_dir: Path,
    command: Sequence[str],
    env: Mapping[str, str],
    limits: SandboxLimits,
    *,
    as_root: bool,
    needed: Sequence[str] = (),
) -> list[str]:
    """The full command line running ``command`` in the sandbox, with ``work_dir`` as its writable cwd.

    The sandbox has fresh ipc, pid, network (loopback only, down), uts and cgroup namespaces, a read-only
    view of the host's files, a private ``/tmp`` and ``/dev``, and ``work_dir`` mounted read-write at
    :data:`SANDBOX_WORK_DIR`. The root of the sandbox is remounted read-only after the mounts.

    Root ignores ``RLIMIT_NPROC`` (and a user namespace made by root still maps to root outside, which
    the kernel exempts too), so when the caller is root bubblewrap does its mounts as root without a user
    namespace and then ``setpriv`` switches to uid/gid :data:`SANDBOX_UID` with no capabilities and
    ``no_new_privs`` before the code starts. A caller that is not root gets a user namespace (bubblewrap's
    unprivileged mode) and keeps its own uid, which the limits apply to. ``needed`` are host paths the code
    must reach (the Python installation), bound read-only even under a directory closed to others.
    """
    args = [bwrap, "--die-with-parent", "--new-session", "--clearenv"]
    if as_root:
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    else:
        args += ["--unshare-all", "--cap-drop", "ALL"]
    args += _root_binds(as_root, needed)
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", "--tmpfs", "/run"]
    # A virtual environment under the host's /tmp (hidden by the private one) is still reachable.
    args += _needed_binds([Path("/tmp"), Path("/run")], needed)
    args += ["--bind", str(work_dir), SANDBOX_WORK_DIR, "--remount-ro", "/", "--chdir", SANDBOX_WORK_DIR]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args.append("--")
    if as_root:
        setpriv = shutil.which("setpriv") or "setpriv"
        args += [
            setpriv,
            f"--reuid={SANDBOX_UID}",
            f"--regid={SANDBOX_UID}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]
    # The limits go on last, so bubblewrap and setpriv themselves are not held to them.
    return args + limit_command(limits) + list(command)
