"""WeCom's callback crypto: the official sample vector, round trips, and what it refuses."""

from __future__ import annotations

import base64
import json

import pytest

from channels.wecom.crypto import (
    BadCiphertext,
    BadSignature,
    WeComCrypto,
    WrongReceiveId,
    signature,
)

TOKEN = "QDG6eK"
KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
# WXBizMsgCrypt's official sample (Sample.py / Sample.cs), an app-style receive id.
VEC_ECHOSTR = (
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
)
VEC_SIGNATURE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
# The AI-bot JSON example of the WeCom protocol notes (computed and cross-checked with the
# official Node SDK, not an official vector): same token and key, receive id "".
BOT_MESSAGE = (
    '{"msgid":"MSGID1","aibotid":"AIBOTID","chatid":"CHATID","chattype":"group",'
    '"from":{"userid":"zhangsan"},"response_url":"https://qyapi.weixin.qq.com/cgi-bin/aibot/'
    'response?response_code=RC1","msgtype":"text","text":{"content":"@bot hi"}}'
)
BOT_ENCRYPT = (
    "2JaQ0H0H/TuqGM/rDRTva2Jx5hXtI2EbqcSX1dpeCfyiqc1QETquPNYbSmsOT2eUVbFvVb5unzUf8TWsKsESSahqkr/"
    "7yCP9oU8dBubkiSKrf7rMrImr/ktkbgqnLJG4eMUdZBQ3NhM7jcMOlN5r3+mtsox0dVreav4uUhOAQ58Be+kdwON/"
    "wE5TM39PzaeTZvHu7dFL5GYq4tgF9E0+hzYychsr7rgkITV8rphscSBA8L0UoVNe3D4LPqXwVj2WndeiOusLBB158/"
    "MX46D7Bz/ElmAQW16xKbI4rwcZOPpfBqPn1C3cp0F4LAxLPYNVrCI6ty1JsYe1xr2pekpHHebvLVtxjmDGT2GO+nQE4"
    "P+FPd/ybhvRR2bCc/PJbNAF"
)
REPLY = '{"msgtype":"stream","stream":{"id":"STREAM1","finish":false,"content":"1"}}'
REPLY_ENCRYPT = (
    "5E3PQMOs0sDXj07fjAt1j+L26c774MkGSFYhEcgGVzYjaVAvGzSh/SFBFf/307AEdsU3lJ4Ql7QFUrxsYvJFLcly"
    "UxKbvGVkQMIdWeTbLbzBL+bdx8TD+lQ4ipyv9KTI"
)


def test_the_official_sample_echostr_verifies_to_its_plaintext() -> None:
    crypto = WeComCrypto(TOKEN, KEY, receive_id="wx5823bf96d3bd56c7")
    assert crypto.verify_url(VEC_SIGNATURE, "1409659589", "263014780", VEC_ECHOSTR) == (
        "1616140317555161061"
    )


def test_the_ai_bot_example_encrypts_and_signs_byte_for_byte() -> None:
    crypto = WeComCrypto(TOKEN, KEY)
    sealed = crypto.seal(BOT_MESSAGE, "1409659813", "1372623149", random16=b"a" * 16)
    assert sealed.encrypt == BOT_ENCRYPT
    assert sealed.msg_signature == "e32ca76c2dbcfc600599bca27ae36cb53ac4df0e"
    reply = crypto.seal(REPLY, "1409659813", "1372623149", random16=b"b" * 16).reply_json()
    assert reply == {
        "encrypt": REPLY_ENCRYPT,
        "msgsignature": "b85b1705965dea16097d638110b7207d49048212",
        "timestamp": "1409659813",
        "nonce": "1372623149",
    }


def test_the_ai_bot_url_verification_example() -> None:
    crypto = WeComCrypto(TOKEN, KEY)
    echostr = (
        "TpNVIESmsbIEu4miJY+0WgiQfHZWGMi6M5BlR0KYEpjcmL38rnenfph282h+gMvadoUi7K4z3bGEuzR5o53AVA=="
    )
    signed = "1426213643ed4916cf320ccf53ed203763665349"
    assert crypto.verify_url(signed, "1409659813", "1372623149", echostr) == "1616140317555161061"


@pytest.mark.parametrize("message", ["", "议事 ✓", json.dumps({"a": "x" * 1000}), "y" * 31])
def test_round_trip(message: str) -> None:
    crypto = WeComCrypto("token", KEY)
    sealed = crypto.seal(message, "1700000000", "42")
    assert len(base64.b64decode(sealed.encrypt)) % 32 == 0
    assert crypto.open(sealed.msg_signature, "1700000000", "42", sealed.encrypt) == (
        message.encode()
    )
    assert crypto.open_reply({**sealed.reply_json(), "timestamp": 1700000000}) == message.encode()


def test_a_tampered_signature_timestamp_or_nonce_is_refused() -> None:
    crypto = WeComCrypto(TOKEN, KEY)
    sealed = crypto.seal(BOT_MESSAGE, "1409659813", "1372623149")
    wrong = "0" * 40
    with pytest.raises(BadSignature):
        crypto.open(wrong, sealed.timestamp, sealed.nonce, sealed.encrypt)
    with pytest.raises(BadSignature):
        crypto.open(sealed.msg_signature, "1409659814", sealed.nonce, sealed.encrypt)
    with pytest.raises(BadSignature):
        crypto.open(sealed.msg_signature, sealed.timestamp, "1", sealed.encrypt)
    with pytest.raises(BadSignature):
        WeComCrypto("other", KEY).open(
            sealed.msg_signature, sealed.timestamp, sealed.nonce, sealed.encrypt
        )


def test_tampered_ciphertext_is_refused_even_when_signed_again() -> None:
    crypto = WeComCrypto(TOKEN, KEY)
    raw = bytearray(base64.b64decode(crypto.encrypt("hello")))
    raw[-1] ^= 0x01  # the last block decrypts to garbage: its padding breaks
    tampered = base64.b64encode(bytes(raw)).decode()
    signed = signature(TOKEN, "1", "2", tampered)
    with pytest.raises(BadCiphertext):
        crypto.open(signed, "1", "2", tampered)
    for garbage in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(BadCiphertext):
            crypto.open(signature(TOKEN, "1", "2", garbage), "1", "2", garbage)


def test_a_message_for_another_receive_id_is_refused() -> None:
    app = WeComCrypto(TOKEN, KEY, receive_id="wx5823bf96d3bd56c7")
    with pytest.raises(WrongReceiveId):
        WeComCrypto(TOKEN, KEY).verify_url(VEC_SIGNATURE, "1409659589", "263014780", VEC_ECHOSTR)
    sealed = WeComCrypto(TOKEN, KEY).seal("hi", "1", "2")
    with pytest.raises(WrongReceiveId):
        app.open(sealed.msg_signature, "1", "2", sealed.encrypt)


@pytest.mark.parametrize("key", ["short", KEY + "A", "!" * 43])
def test_a_malformed_encoding_aes_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="EncodingAESKey"):
        WeComCrypto(TOKEN, key)
