"""Histories committed from earlier versions must still replay: a workflow change that would
break running cases fails here (guard it with ``workflow.patched``). Fresh histories are replayed
by every time-skipping test as it ends (tests/support.py)."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.support import HISTORIES
from workflows.complaint import ComplaintWorkflow

COMMITTED = sorted(HISTORIES.glob("*.json"))


def test_histories_are_committed():
    assert len(COMMITTED) >= 5, "record them with CLOSELOOP_RECORD_HISTORIES=1"


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem[:60])
async def test_committed_history_replays(path):
    history = WorkflowHistory.from_json("WD-" + path.stem.rsplit("-WD-", 1)[-1], path.read_text())
    replayer = Replayer(workflows=[ComplaintWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
