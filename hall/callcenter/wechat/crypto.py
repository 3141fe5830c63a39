"""WeChat's signatures and safe-mode (安全模式) message encryption.

Signatures are the SHA-1 of the sorted, concatenated strings: token, timestamp
and nonce for URL verification and plain mode; the same plus the `Encrypt`
text for safe mode (`msg_signature`). Safe mode is AES-256-CBC with the key
`base64(EncodingAESKey + "=")`, the key's first 16 bytes as IV and PKCS#7
padding to 32-byte blocks, over `16 random bytes + 4-byte big-endian length
+ message + AppID`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to the key size, not to AES's 16-byte block


class CryptoError(ValueError):
    """A message that is not what the hall's key and AppID would produce."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str | None = None) -> str:
    """`signature` (without `encrypt`) or `msg_signature` (with it)."""
    parts = [token, timestamp, nonce] if encrypt is None else [token, timestamp, nonce, encrypt]
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_ok(given: str, token: str, timestamp: str, nonce: str, encrypt: str | None = None) -> bool:
    """Compare in constant time, so a forger learns nothing from how long a refusal takes."""
    return hmac.compare_digest(given.encode(), signature(token, timestamp, nonce, encrypt).encode())


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key from the 43-character EncodingAESKey of the account's settings."""
    if len(encoding_aes_key) != 43:
        raise CryptoError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise CryptoError("EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise CryptoError("EncodingAESKey must decode to 32 bytes")
    return key


class MessageCrypto:
    """Encrypts replies and decrypts messages for one account (key + AppID)."""

    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        self.key = aes_key(encoding_aes_key)
        self.app_id = app_id.encode()

    def encrypt(self, message: bytes, random16: bytes | None = None) -> str:
        random16 = os.urandom(16) if random16 is None else random16
        if len(random16) != 16:
            raise ValueError("the random prefix is 16 bytes")
        plain = random16 + struct.pack(">I", len(message)) + message + self.app_id
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypt: str) -> bytes:
        """The message inside `encrypt`; CryptoError unless it is whole and names this AppID."""
        try:
            data = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise CryptoError("Encrypt is not base64") from None
        if not data or len(data) % 16:
            raise CryptoError("Encrypt is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad padding")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise CryptoError("too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if length > len(plain) - 20:
            raise CryptoError("length field past the end")
        message, app_id = plain[20 : 20 + length], plain[20 + length :]
        if not hmac.compare_digest(app_id, self.app_id):
            raise CryptoError("message is for another AppID")
        return message

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))
