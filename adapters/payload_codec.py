"""Workflow payloads encrypted at rest: AES-256-GCM by a payload codec, so a lead's name and
e-mail never sit in plain text in Temporal's histories (or in its visibility store's memo).

Keys come from the settings (`L2C_PAYLOAD_KEYS = "k2:<key>,k1:<key>"`, each key 32 bytes in
url-safe base64): the first encrypts, every one decrypts, and each payload names the key it
was sealed with, so a new key is rotated in by putting it first and the old one is dropped
once no open workflow holds a payload sealed by it (docs/operations.md, "Rotating secrets").
Payloads that are not ours (written before encryption was on) pass through as they are.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class PayloadKeysInvalid(ValueError):
    """The setting does not name at least one 32-byte key, each with an id."""


def parse_keys(setting: str) -> dict[str, bytes]:
    """`id:key,id:key` (first the one that encrypts) -> {id: 32 bytes}, in that order."""
    keys: dict[str, bytes] = {}
    for item in (part.strip() for part in setting.split(",")):
        key_id, _, encoded = item.partition(":")
        try:
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as err:
            raise PayloadKeysInvalid(f"payload key {key_id!r} is not base64") from err
        if not key_id or len(key) != 32 or key_id in keys:
            raise PayloadKeysInvalid(
                f"payload key {key_id!r}: an id, then 32 bytes in url-safe base64, once each"
            )
        keys[key_id] = key
    if not keys:
        raise PayloadKeysInvalid("at least one payload key")
    return keys


def new_key_setting(key_id: str = "k1") -> str:
    """A fresh key, as the setting writes it."""
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('=')}"


class EncryptionCodec(PayloadCodec):
    """Seals each payload whole (its metadata too) with the current key; opens any payload
    sealed with a known key."""

    def __init__(self, keys: dict[str, bytes]) -> None:
        self.current = next(iter(keys))
        self.ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.ciphers[self.current].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: self.current.encode()},
            data=nonce + sealed,
        )

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # not sealed: written before encryption was on
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self.ciphers.get(key_id)
        if cipher is None:
            raise ValueError(f"payload sealed with unknown key {key_id!r}")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        return Payload.FromString(cipher.decrypt(nonce, sealed, None))


def data_converter(payload_keys: str | None) -> DataConverter:
    """Pydantic payloads, sealed when keys are set."""
    if not payload_keys:
        return pydantic_data_converter
    codec = EncryptionCodec(parse_keys(payload_keys))
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)
