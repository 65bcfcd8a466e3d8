"""WeCom's callback crypto (WXBizMsgCrypt / WXBizJsonMsgCrypt), for the AI bot's JSON callbacks.

Callback mode (a public HTTPS URL) carries every message as ``{"encrypt": ...}``:

- ``AESKey = base64decode(EncodingAESKey + "=")`` (43 characters -> 32 bytes), AES-256-CBC with
  ``IV = AESKey[:16]`` and PKCS#7 padding to a multiple of 32 bytes (not AES's 16);
- plaintext = 16 random bytes + the message's length (4 bytes, big-endian) + the message +
  the receive id (``""`` for an AI bot; a corp id or suite id for other kinds of apps);
- ``msg_signature = sha1_hex("".join(sorted([token, timestamp, nonce, encrypt])))``.

URL verification is the same with ``echostr`` as the ciphertext; the answer is its plaintext.
The passive reply to a POST is ``{"encrypt", "msgsignature", "timestamp", "nonce"}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import struct
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeCom pads to 32 bytes, a multiple of AES's 16-byte block
_RANDOM_BYTES = 16


class WeComCryptoError(Exception):
    """A callback that cannot be trusted or read: nothing in it may be acted on."""


class BadSignature(WeComCryptoError):
    """The msg_signature does not match the token, timestamp, nonce and ciphertext."""


class BadCiphertext(WeComCryptoError):
    """The ciphertext is not base64, not whole AES blocks, badly padded or badly framed."""


class WrongReceiveId(WeComCryptoError):
    """The message decrypted, but was meant for another receiver (another corp or app)."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """WeCom's msg_signature: sha1 (hex) of the four strings sorted and concatenated."""
    joined = "".join(sorted([token, timestamp, nonce, encrypt]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of a 43-character EncodingAESKey (ValueError if it is not one)."""
    if len(encoding_aes_key) != 43:
        raise ValueError("an EncodingAESKey has 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as error:
        raise ValueError("an EncodingAESKey is base64 (letters, digits, + and /)") from error
    if len(key) != 32:
        raise ValueError("an EncodingAESKey decodes to 32 bytes")
    return key


@dataclass(frozen=True, slots=True)
class Sealed:
    """An encrypted, signed message: the query (msg_signature, timestamp, nonce) and body."""

    encrypt: str
    msg_signature: str
    timestamp: str
    nonce: str

    def query(self) -> dict[str, str]:
        """The callback URL's query parameters."""
        return {
            "msg_signature": self.msg_signature,
            "timestamp": self.timestamp,
            "nonce": self.nonce,
        }

    def reply_json(self) -> dict[str, Any]:
        """The passive reply's body (its signature key is ``msgsignature``, no underscore)."""
        return {
            "encrypt": self.encrypt,
            "msgsignature": self.msg_signature,
            "timestamp": self.timestamp,
            "nonce": self.nonce,
        }


class WeComCrypto:
    """Encrypts and signs, verifies and decrypts, for one bot (token, EncodingAESKey)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str = "") -> None:
        if not token:
            raise ValueError("a callback token is required")
        self.token = token
        self.receive_id = receive_id
        self._key = aes_key(encoding_aes_key)

    # -- the two directions ----------------------------------------------------------------
    def seal(
        self, message: str | bytes, timestamp: str, nonce: str, *, random16: bytes | None = None
    ) -> Sealed:
        """Encrypts ``message`` and signs the result (a callback, or a passive reply)."""
        encrypt = self.encrypt(message, random16=random16)
        return Sealed(encrypt, signature(self.token, timestamp, nonce, encrypt), timestamp, nonce)

    def open(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> bytes:
        """The message of a signed ciphertext; raises a WeComCryptoError if it is not trusted."""
        expected = signature(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode("ascii"), msg_signature.encode("utf-8")):
            raise BadSignature("msg_signature does not match")
        return self.decrypt(encrypt)

    def open_json(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> Any:
        """:meth:`open`, then the JSON it carries (BadCiphertext if it is not JSON)."""
        plain = self.open(msg_signature, timestamp, nonce, encrypt)
        try:
            return json.loads(plain)
        except ValueError as error:
            raise BadCiphertext("the decrypted message is not JSON") from error

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """URL verification (GET ?echostr=...): the plaintext to answer with."""
        return self.open(msg_signature, timestamp, nonce, echostr).decode("utf-8")

    def open_reply(self, reply: dict[str, Any]) -> bytes:
        """The message of a passive reply body (``msgsignature``; timestamp a string or int)."""
        try:
            encrypt = str(reply["encrypt"])
            msg_signature = str(reply["msgsignature"])
            timestamp = str(reply["timestamp"])
            nonce = str(reply["nonce"])
        except KeyError as error:
            raise BadSignature(f"the reply has no {error.args[0]}") from error
        return self.open(msg_signature, timestamp, nonce, encrypt)

    # -- the cipher ------------------------------------------------------------------------
    def encrypt(self, message: str | bytes, *, random16: bytes | None = None) -> str:
        """base64 of the AES-256-CBC ciphertext of the framed, padded message."""
        body = message.encode("utf-8") if isinstance(message, str) else message
        prefix = os.urandom(_RANDOM_BYTES) if random16 is None else random16
        if len(prefix) != _RANDOM_BYTES:
            raise ValueError("the random prefix is 16 bytes")
        plain = prefix + struct.pack(">I", len(body)) + body + self.receive_id.encode("utf-8")
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypt: str) -> bytes:
        """The message inside a ciphertext (no signature check: use :meth:`open`)."""
        try:
            cipher_bytes = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError) as error:
            raise BadCiphertext("the ciphertext is not base64") from error
        if not cipher_bytes or len(cipher_bytes) % 16:
            raise BadCiphertext("the ciphertext is not whole AES blocks")
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
        plain = decryptor.update(cipher_bytes) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
            raise BadCiphertext("bad padding")
        plain = plain[:-pad]
        if len(plain) < _RANDOM_BYTES + 4:
            raise BadCiphertext("too short for the random prefix and the length")
        (length,) = struct.unpack(">I", plain[_RANDOM_BYTES : _RANDOM_BYTES + 4])
        start = _RANDOM_BYTES + 4
        if start + length > len(plain):
            raise BadCiphertext("the length field is longer than the message")
        message, receive_id = plain[start : start + length], plain[start + length :]
        if receive_id != self.receive_id.encode("utf-8"):
            raise WrongReceiveId("the message is for another receive id")
        return message
