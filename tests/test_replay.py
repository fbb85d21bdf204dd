"""Histories committed from earlier versions must still replay: a workflow change that would
break running cases fails here (guard it with ``workflow.patched``). Fresh histories are replayed
by every time-skipping test as it ends (tests/support.py)."""

from __future__ import annotations

import json

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


UNSUGGESTED = [p for p in COMMITTED if '"suggestContinueAsNew": true' not in p.read_text()]


@pytest.mark.parametrize("path", UNSUGGESTED, ids=lambda p: p.stem[:60])
async def test_a_history_from_before_continue_as_new_replays_even_when_temporal_suggests_it(path):
    """A case recorded before continue-as-new existed whose history Temporal now calls long: the
    suggestion shows up on its workflow tasks, and replay must still produce the same commands
    (no wake-up, no cancelled timer), whatever the case was waiting for."""
    recorded = json.loads(path.read_text())
    for event in recorded["events"]:
        if "workflowTaskStartedEventAttributes" in event:
            event["workflowTaskStartedEventAttributes"]["suggestContinueAsNew"] = True
    history = WorkflowHistory.from_json("WD-" + path.stem.rsplit("-WD-", 1)[-1], json.dumps(recorded))
    replayer = Replayer(workflows=[ComplaintWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
