"""编解码服务 — Temporal's remote codec protocol, so the Web UI can show encrypted payloads.

Start the Web UI with its codec endpoint at ``<api>/codec`` (``./closeloop dev`` does); it then posts
the payloads it displays to ``/codec/decode`` (and ``/codec/encode`` for what it sends) as protobuf
JSON ``{"payloads": [{"metadata": {name: base64}, "data": base64}]}`` and gets the same shape back.
Decrypted payloads hold personal data, so only the center (supervisor, admin) may call it, with an
API key as ``Authorization: Bearer …`` (the Web UI's "pass access token") or ``X-API-Key``. The UI
calls from its own origin: :class:`CodecHttp` answers CORS for ``codec_cors_origins`` only and caps
the body before anything reads it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from pydantic import BaseModel, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads

from api.deps import StateDep, SupervisorDep
from api.errors import ApiError, ErrorResponse

MAX_PAYLOADS = 1000
MAX_BODY_BYTES = 4 * 1024 * 1024
PREFIX = "/codec"
CORS_HEADERS = ["authorization", "content-type", "x-namespace"]  # what the Web UI sends

router = APIRouter(prefix=PREFIX, tags=["codec"])


Base64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9+/_-]*={0,2}$", description="base64")]


class CodecPayload(BaseModel):
    metadata: dict[str, Base64] = Field(default={}, description="名称 → base64")
    data: Base64 = ""


class CodecPayloads(BaseModel):
    payloads: list[CodecPayload] = Field(default=[], max_length=MAX_PAYLOADS)


TOO_LARGE = {413: {"model": ErrorResponse, "description": f"请求体超过 {MAX_BODY_BYTES // 1024 // 1024} MB (TooLarge)"}}


async def _apply(body: CodecPayloads, fn: Callable[[Sequence[Payload]], Awaitable[list[Payload]]]) -> dict:
    try:
        payloads = json_format.ParseDict(body.model_dump(), Payloads()).payloads
        return json_format.MessageToDict(Payloads(payloads=await fn(payloads)))
    except (json_format.ParseError, DecodeError, InvalidTag, ValueError) as err:
        # InvalidTag: altered, or sealed with a different key under the same ID
        reason = str(err) or "无法解密（数据被改动或密钥不符）"
        raise ApiError(422, "InvalidInput", f"载荷无法处理：{reason}") from None


async def _unchanged(payloads: Sequence[Payload]) -> list[Payload]:
    return list(payloads)


@router.post("/decode", response_model=CodecPayloads, responses=TOO_LARGE, summary="解密载荷（Temporal Web UI）")
async def decode(body: CodecPayloads, p: SupervisorDep, s: StateDep) -> dict:
    """Each payload decrypted with the key its metadata names; plaintext payloads come back as they are."""
    codec = s.client.data_converter.payload_codec
    return await _apply(body, codec.decode if codec else _unchanged)


@router.post("/encode", response_model=CodecPayloads, responses=TOO_LARGE, summary="加密载荷（Temporal Web UI）")
async def encode(body: CodecPayloads, p: SupervisorDep, s: StateDep) -> dict:
    """Each payload encrypted with the current key (unchanged when no payload keys are configured)."""
    codec = s.client.data_converter.payload_codec
    return await _apply(body, codec.encode if codec else _unchanged)


class CodecHttp:
    """ASGI middleware for ``/codec`` only: CORS for the Web UI's origins (every other path keeps the
    API's no-CORS default) and a body cap applied while reading, so an oversized upload is refused
    with 413 before it is buffered."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            self._capped, allow_origins=list(origins), allow_methods=["POST"], allow_headers=CORS_HEADERS, max_age=600
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["path"] == PREFIX or scope["path"].startswith(PREFIX + "/")):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _capped(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        too_large = not declared.isdigit() or int(declared) > MAX_BODY_BYTES
        chunks: list[bytes] = []
        size, more = 0, not too_large
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            too_large, more = size > MAX_BODY_BYTES, message.get("more_body", False)
            more = more and not too_large
        if too_large:
            message = f"请求体超过 {MAX_BODY_BYTES // 1024 // 1024} MB"
            body = {"error": {"code": "TooLarge", "message": message, "detail": {"max_bytes": MAX_BODY_BYTES}}}
            await JSONResponse(body, status_code=413)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)
