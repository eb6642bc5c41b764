"""Signing secrets: made here, shown once, kept sealed (AES-256-GCM) so a database dump
alone cannot forge a signature. The sealing key derives from L2C_SECRET_KEY."""

from __future__ import annotations

import base64
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "whsec_"
_AAD = b"l2c-webhook-secret"


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


class SecretBox:
    """Seals and opens endpoint secrets with the deployment's key."""

    def __init__(self, key: bytes) -> None:
        self._cipher = AESGCM(key)

    def seal(self, secret: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._cipher.encrypt(nonce, secret.encode(), _AAD)
        return base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str) -> str:
        raw = base64.b64decode(sealed)
        return self._cipher.decrypt(raw[:12], raw[12:], _AAD).decode()
