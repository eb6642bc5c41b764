"""The payload codec: sealed with the current key, opened with any known one, unsealed
payloads passed through, bad key settings refused."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from adapters.payload_codec import (
    ENCODING,
    EncryptionCodec,
    PayloadKeysInvalid,
    new_key_setting,
    parse_keys,
)

PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"email": "ada@acme.example"}')


def codec(setting: str) -> EncryptionCodec:
    return EncryptionCodec(parse_keys(setting))


def test_a_sealed_payload_hides_its_data_and_opens_to_what_it_was():
    sealing = codec(new_key_setting("k1"))
    (sealed,) = asyncio.run(sealing.encode([PLAIN]))
    assert sealed.metadata["encoding"] == ENCODING and b"ada@acme" not in sealed.SerializeToString()
    assert asyncio.run(sealing.decode([sealed])) == [PLAIN]


def test_after_a_rotation_the_old_key_still_opens_what_it_sealed():
    old = new_key_setting("k1")
    new = new_key_setting("k2")
    (before,) = asyncio.run(codec(old).encode([PLAIN]))
    rotated = codec(f"{new},{old}")
    (after,) = asyncio.run(rotated.encode([PLAIN]))
    assert after.metadata["encryption-key-id"] == b"k2"
    assert asyncio.run(rotated.decode([before, after])) == [PLAIN, PLAIN]
    with pytest.raises(ValueError, match="unknown key 'k2'"):
        asyncio.run(codec(old).decode([after]))


def test_a_payload_written_before_sealing_passes_through():
    assert asyncio.run(codec(new_key_setting()).decode([PLAIN])) == [PLAIN]


def test_a_tampered_payload_does_not_open():
    sealing = codec(new_key_setting())
    (sealed,) = asyncio.run(sealing.encode([PLAIN]))
    sealed.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(InvalidTag):
        asyncio.run(sealing.decode([sealed]))


@pytest.mark.parametrize(
    "setting",
    ["", "k1", "k1:c2hvcnQ", ":" + new_key_setting().split(":")[1], "k1:!!!"],
)
def test_a_key_setting_without_ids_or_32_byte_keys_is_refused(setting):
    with pytest.raises(PayloadKeysInvalid):
        parse_keys(setting)


def test_one_id_twice_is_refused():
    key = new_key_setting("k1")
    with pytest.raises(PayloadKeysInvalid):
        parse_keys(f"{key},{key}")
