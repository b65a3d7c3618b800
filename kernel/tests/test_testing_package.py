"""salon.testing itself: import isolation and the shape plugin authors rely on."""

from __future__ import annotations

import subprocess
import sys

import pytest

from salon.testing import RuntimeConformanceSuite


def test_import_salon_does_not_import_pytest() -> None:
    """Applications import salon without test tools installed; only salon.testing needs pytest."""
    code = "import sys, salon; assert 'pytest' not in sys.modules and 'salon.testing' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_suite_is_not_collected_by_itself() -> None:
    """The base class must not be named Test* or pytest would run it without a runtime."""
    assert not RuntimeConformanceSuite.__name__.startswith("Test")


def test_suite_has_tests_from_every_part() -> None:
    names = [name for name in dir(RuntimeConformanceSuite) if name.startswith("test_")]
    assert len(names) >= 70
    for expected in (
        "test_publish_fans_out_to_every_subscribed_type",
        "test_most_specific_annotated_type_wins",
        "test_runtime_state_covers_queued_messages",
        "test_dropped_publish_reaches_nobody_and_the_runtime_goes_idle",
        "test_sequential_agent_handles_one_message_at_a_time_in_arrival_order",
        "test_current_task_inside_a_handler_is_the_handlers_own",
        "test_stats_count_queued_and_in_flight_messages",
    ):
        assert expected in names


async def test_make_runtime_must_be_overridden() -> None:
    class Incomplete(RuntimeConformanceSuite):
        pass

    with pytest.raises(NotImplementedError, match="make_runtime"):
        await Incomplete().make_runtime()
