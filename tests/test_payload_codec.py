"""Payload encryption: the codec on its own (round trip, key rotation, plaintext and unknown keys,
settings), then the real stack — a case's history on the Temporal server holds ciphertext only,
and ``/codec/decode`` gives the center (and only the center) the plaintext back."""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from google.protobuf import json_format
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

import cli
from cli.stack import child_env
from config import Settings, SettingsError, get_settings
from domain.messages import Actor, Registration
from domain.vocabulary import Role
from security.codec import ENCRYPTED, KEY_ID, EncryptionCodec, PayloadKeyError, data_converter
from tests.api_support import api_stack, as_
from tests.support import HISTORIES
from workflows.complaint import ComplaintWorkflow


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text, ensure_ascii=False).encode())


# --- the codec ------------------------------------------------------------------------------------


async def test_round_trip_hides_the_payload_and_restores_it_exactly():
    codec = EncryptionCodec({"k1": secrets.token_bytes(32)}, "k1")
    original = [plain("张三 13812341234"), plain("JM-002"), Payload()]
    sealed = await codec.encode(original)
    assert all(p.metadata["encoding"] == ENCRYPTED and p.metadata[KEY_ID] == b"k1" for p in sealed)
    assert not any("张三".encode() in p.data or b"JM-002" in p.data for p in sealed)
    assert sealed[0].data[:12] != (await codec.encode(original[:1]))[0].data[:12]  # a fresh nonce each time
    assert await codec.decode(sealed) == original


async def test_rotation_old_payloads_still_decode_and_new_ones_use_the_new_key():
    k1, k2 = new_key(), new_key()
    before = data_converter(Settings(payload_keys={"k1": k1}))
    after = data_converter(Settings(payload_keys={"k1": k1, "k2": k2}))  # the last one listed encrypts
    registration = Registration(actor=Actor(role=Role.SUPERVISOR, user="dispatcher-1"), category="JM-002")

    old = await before.encode([registration])
    assert old[0].metadata[KEY_ID] == b"k1"
    assert await after.decode(old, [Registration]) == [registration]
    new = await after.encode([registration])
    assert new[0].metadata[KEY_ID] == b"k2"
    assert await after.decode(new, [Registration]) == [registration]
    with pytest.raises(PayloadKeyError, match="'k2'"):  # a process still on the old keys names what it lacks
        await before.decode(new, [Registration])

    pinned = Settings(payload_keys={"k1": k1, "k2": k2}, payload_key_id="k1")
    assert (await data_converter(pinned).encode([registration]))[0].metadata[KEY_ID] == b"k1"


async def test_plaintext_payloads_pass_through_decode_and_committed_histories_replay():
    codec = EncryptionCodec({"k1": secrets.token_bytes(32)}, "k1")
    assert await codec.decode([plain("before encryption")]) == [plain("before encryption")]

    converter = data_converter(Settings(payload_keys={"k1": new_key()}))
    path = sorted(HISTORIES.glob("test_happy_path*.json"))[0]
    history = WorkflowHistory.from_json("WD-" + path.stem.rsplit("-WD-", 1)[-1], path.read_text())
    replayer = Replayer(workflows=[ComplaintWorkflow], data_converter=converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_unknown_key_id_and_altered_data_are_refused():
    sealed = await EncryptionCodec({"retired": secrets.token_bytes(32)}, "retired").encode([plain("x")])
    with pytest.raises(PayloadKeyError, match="'retired'"):
        await EncryptionCodec({"k1": secrets.token_bytes(32)}, "k1").decode(sealed)
    impostor = EncryptionCodec({"retired": secrets.token_bytes(32)}, "retired")  # same ID, other key
    with pytest.raises(InvalidTag):
        await impostor.decode(sealed)


def test_settings_refuse_unusable_keys(tmp_path):
    with pytest.raises(SettingsError, match="'short' is 16 bytes .* needs 32"):
        Settings(payload_keys={"short": base64.b64encode(secrets.token_bytes(16)).decode()})
    with pytest.raises(SettingsError, match="'bad' is not valid base64"):
        Settings(payload_keys={"bad": "not base64!"})
    with pytest.raises(SettingsError, match="payload_key_id 'k9' is not among"):
        Settings(payload_keys={"k1": new_key()}, payload_key_id="k9")
    with pytest.raises(SettingsError, match="missing.json"):
        Settings(payload_keys_file=tmp_path / "missing.json")

    a, b = new_key(), new_key()
    (tmp_path / "keys.json").write_text(json.dumps({"file-1": a}))
    merged = Settings(payload_keys_file=tmp_path / "keys.json", payload_keys={"env-2": b})
    assert merged.payload_key_map() == {"file-1": base64.b64decode(a), "env-2": base64.b64decode(b)}
    assert merged.current_payload_key_id() == "env-2"
    with pytest.raises(SettingsError, match="'file-1' differs"):
        Settings(payload_keys_file=tmp_path / "keys.json", payload_keys={"file-1": b})
    assert data_converter(Settings()) is pydantic_data_converter  # no keys: plain JSON, as before


def test_dev_makes_one_payload_key_and_hands_it_to_its_children(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("CLOSELOOP_")]:
        monkeypatch.delenv(name)
    get_settings.cache_clear()
    try:
        first = cli.dev_settings()
        path = tmp_path / ".closeloop" / "payload-keys.json"
        assert Path(first.payload_keys_file).resolve() == path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        key = path.read_bytes()
        assert cli.dev_settings().payload_key_map() == first.payload_key_map() and path.read_bytes() == key

        env = child_env(first.model_copy(update={"codec_cors_origins": ["http://127.0.0.1:8233"]}))
        assert env["CLOSELOOP_PAYLOAD_KEYS_FILE"] == str(path)
        monkeypatch.setenv("CLOSELOOP_PAYLOAD_KEYS_FILE", env["CLOSELOOP_PAYLOAD_KEYS_FILE"])
        monkeypatch.setenv("CLOSELOOP_CODEC_CORS_ORIGINS", env["CLOSELOOP_CODEC_CORS_ORIGINS"])
        child = Settings()  # what the worker and the API read
        assert child.payload_key_map() == first.payload_key_map() and child.codec_cors_origins == [
            "http://127.0.0.1:8233"
        ]
    finally:
        get_settings.cache_clear()


# --- on the real stack ----------------------------------------------------------------------------


def payloads_in(message: Message, path: str = "") -> list[tuple[str, Payload]]:
    """Every Payload anywhere in a history event (inputs, results, update arguments, markers, …), with its path."""
    if isinstance(message, Payload):
        return [(path, message)]
    found: list[tuple[str, Payload]] = []
    for field, value in message.ListFields():
        if isinstance(value, Message):
            found += payloads_in(value, f"{path}.{field.name}")
        elif hasattr(value, "items"):  # a map
            for key, item in value.items():
                if isinstance(item, Message):
                    found += payloads_in(item, f"{path}.{field.name}[{key}]")
        else:
            for i, item in enumerate(value if field.message_type else []):
                found += payloads_in(item, f"{path}.{field.name}[{i}]")
    return found


def as_json(payloads: list[Payload]) -> dict:
    return json_format.MessageToDict(Payloads(payloads=payloads))


async def test_the_temporal_server_holds_only_ciphertext_and_the_center_can_decode_it(engine, dev_env):
    settings = Settings(payload_keys={"2026-a": new_key()})
    target = dev_env.client.service_client.config.target_host
    worker_client = await Client.connect(target, data_converter=data_converter(settings))
    async with api_stack(engine, dev_env, client=worker_client, payload_keys=settings.payload_keys) as s:
        filed = await s.report(name="李四", phone="13912345678")
        code = filed["case_code"]
        r = await s.http.post(f"/cases/{code}/register", json={"category": "JM-002"}, headers=as_("k-supervisor"))
        assert r.status_code == 200 and r.json()["step"] == "dispatch", r.text

        history = await dev_env.client.get_workflow_handle(code).fetch_history()  # no codec: what the server has
        found = [(path, p) for event in history.events for path, p in payloads_in(event)]
        for _, p in found:
            for secret in ("李四", "13912345678", "JM-002", code, "G-LS-XL-01"):  # name and phone never go in
                assert secret.encode() not in p.data
        sealed = {path: p for path, p in found if p.metadata["encoding"] == ENCRYPTED}
        assert all(p.metadata[KEY_ID] == b"2026-a" for p in sealed.values())
        for what in (
            "workflow_execution_started_event_attributes.input",
            "update_accepted_event_attributes.accepted_request.input.args",
            "activity_task_scheduled_event_attributes.input",
            "activity_task_completed_event_attributes.result",
            "marker_recorded_event_attributes.details[result]",  # a local activity's result
        ):
            assert any(what in path for path in sealed), what
        # In clear by design: the SDK's bookkeeping (patch IDs, local activity sequence numbers) and the
        # search attribute the server indexes patches by. None of it is case data (checked above).
        clear = {path.split(".payloads[")[0].rsplit(".", 1)[-1] for path, _ in found if path not in sealed}
        assert clear <= {"details[patch-data]", "details[data]", "indexed_fields[TemporalChangeVersion]"}, clear
        stored = list(sealed.values())

        body = as_json(stored)
        r = await s.http.post("/codec/decode", json=body, headers={"Authorization": "Bearer k-supervisor"})
        assert r.status_code == 200, r.text
        decoded = [base64.b64decode(p.get("data", "")).decode() for p in r.json()["payloads"]]
        assert len(decoded) == len(stored)
        assert any(f'"case_code":"{code}"' in d for d in decoded) and any('"category":"JM-002"' in d for d in decoded)
        assert all(
            p["metadata"]["encoding"] != base64.b64encode(b"binary/encrypted").decode() for p in r.json()["payloads"]
        )

        r = await s.http.post("/codec/encode", json=r.json(), headers=as_("k-admin"))  # the UI's other direction
        assert r.status_code == 200 and all("encryption-key-id" in p["metadata"] for p in r.json()["payloads"])

        for anything in (body, {"payloads": "not a list"}):  # who asks is checked before what is asked
            r = await s.http.post("/codec/decode", json=anything)
            assert r.status_code == 401 and r.json()["error"]["code"] == "Unauthorized"
        r = await s.http.post("/codec/decode", json=body, headers=as_("k-D-JJ"))
        assert r.status_code == 403 and r.json()["error"]["code"] == "Forbidden"


async def test_codec_endpoint_cors_bounds_and_errors(engine, dev_env):
    origin = "http://127.0.0.1:8233"
    async with api_stack(engine, dev_env, payload_keys={"k1": new_key()}, codec_cors_origins=[origin]) as s:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,x-namespace",
        }
        r = await s.http.options("/codec/decode", headers={"Origin": origin, **preflight})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == origin
        allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
        assert {"authorization", "content-type", "x-namespace"} <= allowed
        r = await s.http.options("/codec/decode", headers={"Origin": "http://evil.example", **preflight})
        assert r.status_code == 400 and "access-control-allow-origin" not in r.headers
        r = await s.http.options("/cases", headers={"Origin": origin, **preflight})  # CORS only on /codec
        assert "access-control-allow-origin" not in r.headers

        sup = {**as_("k-supervisor"), "Origin": origin}
        r = await s.http.post("/codec/decode", json={"payloads": []}, headers=sup)
        assert (
            r.status_code == 200 and r.json() == {"payloads": []} and r.headers["access-control-allow-origin"] == origin
        )

        r = await s.http.post("/codec/decode", json={"payloads": [{}] * 1001}, headers=sup)
        assert r.status_code == 422 and r.json()["error"]["code"] == "InvalidInput"
        huge = b'{"payloads": [{"data": "' + b"A" * (4 * 1024 * 1024) + b'"}]}'
        r = await s.http.post("/codec/decode", content=huge, headers={**sup, "content-type": "application/json"})
        assert r.status_code == 413 and r.json()["error"]["code"] == "TooLarge"
        assert r.headers["access-control-allow-origin"] == origin  # the Web UI can read why

        async def chunks():  # no Content-Length: the cap holds while reading
            for _ in range(5):
                yield b"A" * (1024 * 1024)

        r = await s.http.post("/codec/decode", content=chunks(), headers={**sup, "content-type": "application/json"})
        assert r.status_code == 413

        foreign = await EncryptionCodec({"other": secrets.token_bytes(32)}, "other").encode([plain("x")])
        r = await s.http.post("/codec/decode", json=as_json(foreign), headers=sup)
        assert r.status_code == 422 and "'other'" in r.json()["error"]["message"]
        r = await s.http.post("/codec/decode", json={"payloads": [{"data": "%%%"}]}, headers=sup)
        assert r.status_code == 422

        plaintext = as_json([plain("from before encryption")])
        r = await s.http.post("/codec/decode", json=plaintext, headers=sup)
        assert r.status_code == 200 and r.json() == plaintext
