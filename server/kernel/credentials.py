"""Encryption of stored Canvas tokens: Fernet (AES-CBC + HMAC), keys newest first.

Rotation is adding a key in front of ``CREDENTIALS_KEYS``; a token encrypted with an older
key is re-encrypted with the newest one the next time it is used.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class CredentialsUnreadable(Exception):
    """No configured key can decrypt a stored token (keys were replaced, not rotated)."""


class TokenCipher:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("CREDENTIALS_KEYS needs at least one Fernet key")
        self._newest = Fernet(keys[0].encode())
        self._all = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, token: str) -> str:
        return self._newest.encrypt(token.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._all.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise CredentialsUnreadable from None

    def needs_rotation(self, ciphertext: str) -> bool:
        try:
            self._newest.decrypt(ciphertext.encode())
        except InvalidToken:
            return True
        return False
