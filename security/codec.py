"""载荷加密 — AES-256-GCM over every payload closeloop hands to Temporal.

Why: a case's inputs, updates and results carry citizens' names, phones and addresses, and the
Temporal server keeps them in its database, its backups and its Web UI for as long as histories
live. With a codec the server only ever holds ciphertext; the keys stay with the worker and the API.

Rotation: the current key ID encrypts, every configured key decrypts (the key ID travels in each
payload's metadata), so a new key can become current while histories written under older keys
still replay. A payload without the encrypted encoding (histories from before encryption) is
passed through unchanged.

The format follows Temporal's samples-python ``encryption`` sample, so its tools (and the Go and
TypeScript samples' codec servers) read our payloads: ``encoding=binary/encrypted``,
``encryption-key-id=<id>``, data = 12-byte random nonce + AES-GCM(serialized original Payload).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

if TYPE_CHECKING:
    from config import Settings

ENCODING = "encoding"
ENCRYPTED = b"binary/encrypted"
KEY_ID = "encryption-key-id"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the GCM standard nonce; random per payload


class PayloadKeyError(ValueError):
    """A payload names a key this process does not hold (or a configured key is unusable)."""


class EncryptionCodec(PayloadCodec):
    """Encrypts with ``current``; decrypts with whichever of ``keys`` a payload names."""

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        super().__init__()
        if current not in keys:
            raise PayloadKeyError(f"payload key id {current!r} is not among the configured keys {sorted(keys)}")
        for key_id, key in keys.items():
            if len(key) != KEY_BYTES:
                raise PayloadKeyError(f"payload key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}")
        self.key_id = current
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.key_id].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(metadata={ENCODING: ENCRYPTED, KEY_ID: self.key_id.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        """The original payload; plaintext payloads (not ``binary/encrypted``) unchanged.

        Raises :class:`PayloadKeyError` for a key ID this process lacks, and
        ``cryptography.exceptions.InvalidTag`` for data altered or sealed with another key."""
        if payload.metadata.get(ENCODING) != ENCRYPTED:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(
                f"payload encrypted with key id {key_id!r}, which is not configured "
                f"(known: {sorted(self._ciphers)}); keep retired keys in CLOSELOOP_PAYLOAD_KEYS to read old histories"
            )
        data = payload.data
        return Payload.FromString(cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None))


def codec(settings: Settings) -> EncryptionCodec | None:
    """The codec for ``settings``' payload keys, or None when none are configured."""
    keys = settings.payload_key_map()
    return EncryptionCodec(keys, settings.current_payload_key_id()) if keys else None


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic JSON, encrypted when payload keys are configured. Every client that starts,
    updates, queries or runs workflows must use this (the worker and the API do)."""
    payload_codec = codec(settings)
    if payload_codec is None:
        return pydantic_data_converter
    return dataclasses.replace(pydantic_data_converter, payload_codec=payload_codec)
