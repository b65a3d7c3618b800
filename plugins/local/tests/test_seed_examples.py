"""The seed guide's LocalCommandLineCodeExecutor examples, ported by rewriting imports.

``autogen_core`` -> ``salon``, ``autogen_core.code_executor`` -> ``salon.code_executor``,
``autogen_ext.code_executors.local`` -> ``salon_local``. The guide's relative ``coding`` directory becomes
one under ``tmp_path``. One change, on purpose: the virtual-environment example installs ``matplotlib``
from PyPI, and tests never reach the internet, so it installs a small wheel the test builds on disk with
the same ``pip install`` command (``--no-index`` pointing at it) — what the guide demonstrates, an install
that lands in the new environment and not in the global one, is asserted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from salon import CancellationToken
from salon.code_executor import CodeBlock
from salon_local import LocalCommandLineCodeExecutor


async def test_local_executor_example(tmp_path: Path) -> None:
    work_dir = tmp_path / "coding"
    work_dir.mkdir(exist_ok=True)

    local_executor = LocalCommandLineCodeExecutor(work_dir=work_dir)
    result = await local_executor.execute_code_blocks(
        code_blocks=[
            CodeBlock(language="python", code="print('Hello, World!')"),
        ],
        cancellation_token=CancellationToken(),
    )
    print(result)

    assert result.exit_code == 0
    assert result.output == "Hello, World!\n"
    assert result.code_file is not None
    code_file = Path(result.code_file)
    assert code_file.parent == work_dir and code_file.name.startswith("tmp_code_") and code_file.suffix == ".py"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(directory: Path) -> Path:
    """A one-module wheel, ``salon_seed_plot``, standing in for matplotlib (no network in tests)."""
    files = {
        "salon_seed_plot/__init__.py": b"def plot():\n    return 'plotted'\n",
        "salon_seed_plot-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: salon-seed-plot\nVersion: 1.0\n",
        "salon_seed_plot-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record_name = "salon_seed_plot-1.0.dist-info/RECORD"
    record = "\n".join([*(_record_line(n, d) for n, d in files.items()), f"{record_name},,"]) + "\n"
    wheel = directory / "salon_seed_plot-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(record_name, record)
    return wheel


async def test_local_executor_in_a_virtual_environment_example(tmp_path: Path) -> None:
    work_dir = tmp_path / "coding"
    work_dir.mkdir(exist_ok=True)
    wheels = work_dir / "wheels"  # inside the work dir: the sandbox shows the code nothing else of the disk
    wheels.mkdir()
    build_wheel(wheels)

    venv_dir = work_dir / ".venv"
    venv_builder = venv.EnvBuilder(with_pip=True)
    await asyncio.to_thread(venv_builder.create, venv_dir)
    venv_context = venv_builder.ensure_directories(venv_dir)

    local_executor = LocalCommandLineCodeExecutor(work_dir=work_dir, virtual_env_context=venv_context, sandbox=False)
    result = await local_executor.execute_code_blocks(
        code_blocks=[
            CodeBlock(language="bash", code="pip install --no-index --find-links wheels salon-seed-plot"),
        ],
        cancellation_token=CancellationToken(),
    )

    assert result.exit_code == 0, result.output
    # Installed into the new environment ...
    done = await asyncio.to_thread(
        subprocess.run,
        [str(venv_dir / "bin" / "python"), "-c", "import salon_seed_plot; print(salon_seed_plot.plot())"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.strip() == "plotted", done.stderr
    # ... and not into the interpreter running the tests.
    here = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", "import salon_seed_plot"], capture_output=True, check=False
    )
    assert here.returncode != 0
