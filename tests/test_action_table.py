"""The action table is the one place a human action is declared: everything else follows from it."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.datastructures import ImmutableMultiDict

from api.actions import ACTIONS, ACTIONS_LIST
from api.forms import form_data, form_fields
from api.main import create_app
from api.web import actions as web_actions
from config import Settings
from workflows.human_actions import _UPDATE_CHECKS

CASE_PAGE = Path(__file__).resolve().parent.parent / "api" / "web" / "templates" / "case.html"


def test_every_action_is_a_validated_update_and_a_route():
    paths = create_app(Settings()).openapi()["paths"]
    for action in ACTIONS_LIST:
        assert action.update.__name__ in _UPDATE_CHECKS, f"{action.name}: no validator, allowed_actions cannot judge it"
        assert "post" in paths.get(f"/cases/{{code}}/{action.path}", {}), action.name
    assert len({a.path for a in ACTIONS_LIST}) == len(ACTIONS_LIST) == len(ACTIONS)


def test_dedicated_forms_exist_and_any_other_action_gets_a_form_built_from_its_body(monkeypatch):
    page = CASE_PAGE.read_text(encoding="utf-8")
    assert set(re.findall(r'"(\w+)" in actions', page)) == web_actions.DEDICATED_FORMS  # the list is the page's
    assert web_actions.DEDICATED_FORMS <= set(ACTIONS)
    monkeypatch.setattr(web_actions, "DEDICATED_FORMS", frozenset())  # as for an action added to the table only
    (extension,) = web_actions.generic_forms({"extension", "not-an-action"})
    fields = {field.name: field for field in extension.fields}
    assert extension.label == "申请延期" and list(fields) == ["extra.amount", "extra.unit", "reason"]
    assert fields["extra.unit"].kind == "select" and ("working_days", "个工作日") in fields["extra.unit"].options
    assert fields["reason"].label == "延期理由" and fields["reason"].required and fields["reason"].max_length == 1000


def test_each_generated_form_posts_back_into_its_body():
    for action in ACTIONS_LIST:
        sample = {"text": "现场已处理完毕", "number": "2", "checkbox": "1"}
        pairs = [
            (field.name, field.options[0][0] if field.kind == "select" else sample[field.kind])
            for field in form_fields(action.body, action.labels)
        ]
        data = form_data(ImmutableMultiDict(pairs), action.body)
        if action.name not in ("register", "duplicate", "reassign"):  # those need real codes, not sample text
            action.body.model_validate(data)
