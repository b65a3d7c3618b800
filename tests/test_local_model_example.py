"""The main example runs on the real local model (salon-llamacpp, SmolLM2-135M), offline.

What a 135M model says is not asserted; what is: the team runs to its termination condition, the
tokens really stream (chunks arrive before each final message and add up to it), and the console
shows the run's summary. This is the README's main command, ``salon run examples/writer_critic.yaml``.
"""

from __future__ import annotations

from pathlib import Path

from salon import Container
from salon_agentchat.messages import BaseChatMessage, ModelClientStreamingChunkEvent
from tests.plugin_dists import run_salon

ROOT = Path(__file__).resolve().parents[1]
TASK = "Write a haiku about autumn leaves."


async def test_the_main_example_streams_real_tokens_until_its_termination() -> None:
    team = Container.from_file(ROOT / "examples" / "writer_critic.yaml").component("team")
    chunks: list[str] = []
    finals: list[tuple[BaseChatMessage, str]] = []
    result = None
    async for item in team.run_stream(task=TASK):
        if isinstance(item, ModelClientStreamingChunkEvent):
            chunks.append(item.content)
        elif isinstance(item, BaseChatMessage):
            if item.source != "user":
                finals.append((item, "".join(chunks)))
            chunks = []
        else:
            result = item

    assert result is not None
    assert result.stop_reason is not None
    assert "Maximum number of messages 6 reached" in result.stop_reason or "APPROVE" in result.stop_reason
    assert finals, "no agent spoke"
    for message, streamed in finals:
        assert message.source in {"writer", "critic"}
        assert streamed, f"{message.source}'s message arrived without streamed chunks"
        assert streamed == message.to_text(), "the chunks do not add up to the final message"
        assert message.models_usage is not None and message.models_usage.completion_tokens > 0


def test_salon_run_runs_the_main_example_offline(tmp_path: Path) -> None:
    done = run_salon("run", str(ROOT / "examples" / "writer_critic.yaml"), "--task", TASK, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert "---------- writer (streaming) ----------" in done.stdout
    assert "Finish reason:" in done.stdout
    assert "Total completion tokens:" in done.stdout
