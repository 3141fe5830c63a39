"""Signatures and safe-mode encryption against WeChat's own published examples.

The vectors are from WeChat's message-push documentation (开发者服务器接收消息推送,
developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html):
Token "AAAAA", EncodingAESKey 43 × "A", AppID "wxba5fad812f8e6fb9".
"""

import base64
import hashlib
import json
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hall.callcenter.wechat import crypto
from hall.callcenter.wechat.crypto import CryptoError, MessageCrypto

TOKEN = "AAAAA"
DOC_KEY = "A" * 43
DOC_APPID = "wxba5fad812f8e6fb9"
DOC_ENCRYPT = (
    "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6J"
    "sXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8"
    "EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="
)


@pytest.mark.parametrize(
    "timestamp, nonce, expected",
    [
        ("1714037059", "486452656", "899cf89e464efb63f54ddac96b0a0a235f53aa78"),  # the example
        ("1714036504", "1514711492", "f464b24fc39322e44b38aa78f5edd27bd1441696"),  # URL verification
        ("1714112445", "415670741", "6c5c811b55cc85e0e1b54100749188c20beb3f5d"),  # safe mode's query signature
    ],
)
def test_the_official_signature_examples(timestamp, nonce, expected):
    assert crypto.signature(TOKEN, timestamp, nonce) == expected
    assert crypto.signature_ok(expected, TOKEN, timestamp, nonce)
    # The same thing by the documentation's recipe, step by step: sort, join, SHA-1.
    assert hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest() == expected


def test_a_forged_or_altered_signature_is_refused():
    good = "899cf89e464efb63f54ddac96b0a0a235f53aa78"
    assert not crypto.signature_ok(good, TOKEN, "1714037060", "486452656")  # another timestamp
    assert not crypto.signature_ok(good, "BBBBB", "1714037059", "486452656")  # another token
    assert not crypto.signature_ok(good[:-1] + "9", TOKEN, "1714037059", "486452656")
    assert not crypto.signature_ok("", TOKEN, "1714037059", "486452656")


def test_msg_signature_covers_the_encrypted_text():
    documented = "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
    assert crypto.signature(TOKEN, "1714112445", "415670741", DOC_ENCRYPT) == documented
    tampered = DOC_ENCRYPT.replace("+qdx", "+qdy")
    assert not crypto.signature_ok(documented, TOKEN, "1714112445", "415670741", tampered)


def test_the_official_encrypted_message_decrypts_to_the_documented_text():
    message = MessageCrypto(DOC_KEY, DOC_APPID).decrypt(DOC_ENCRYPT)
    assert json.loads(message) == {
        "ToUserName": "gh_97417a04a28d",
        "FromUserName": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
        "CreateTime": 1714112445,
        "MsgType": "event",
        "Event": "debug_demo",
        "debug_str": "hello world",
    }
    assert len(message) == 167  # msg_len in the documentation


def test_the_official_reply_encrypts_to_the_documented_ciphertext():
    box = MessageCrypto(DOC_KEY, DOC_APPID)
    encrypt = box.encrypt(b'{"demo_resp":"good luck"}', random16=b"707722b803182950")
    assert encrypt == "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ=="
    assert len(base64.b64decode(encrypt)) == 64  # 63 bytes padded to two 32-byte blocks
    assert crypto.signature(TOKEN, "1713424427", "415670741", encrypt) == "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1"


@pytest.mark.parametrize("size", [0, 1, 11, 12, 13, 44, 45, 1000, 4096])
def test_safe_mode_round_trip_at_every_padding_length(size):
    box = MessageCrypto(base64.b64encode(bytes(range(32))).decode()[:43], "wx1234567890abcdef")
    message = ("工单" * size).encode()[:size]
    encrypt = box.encrypt(message)
    raw = base64.b64decode(encrypt)
    assert len(raw) % 32 == 0
    assert box.decrypt(encrypt) == message
    assert encrypt != box.encrypt(message)  # a fresh random prefix each time


def test_a_message_for_another_appid_is_refused():
    other = MessageCrypto(DOC_KEY, "wx0000000000000000").encrypt(b"<xml></xml>")
    with pytest.raises(CryptoError, match="AppID"):
        MessageCrypto(DOC_KEY, DOC_APPID).decrypt(other)
    with pytest.raises(CryptoError, match="AppID"):
        MessageCrypto(DOC_KEY, "wx0000000000000000").decrypt(DOC_ENCRYPT)


def test_the_wrong_key_or_garbage_is_refused():
    wrong_key = base64.b64encode(b"k" * 32).decode()[:43]
    with pytest.raises(CryptoError):
        MessageCrypto(wrong_key, DOC_APPID).decrypt(DOC_ENCRYPT)
    box = MessageCrypto(DOC_KEY, DOC_APPID)
    for garbage in ("", "not base64!", base64.b64encode(b"x" * 15).decode(), DOC_ENCRYPT[:-8] + "========"):
        with pytest.raises(CryptoError):
            box.decrypt(garbage)


def test_a_length_field_past_the_end_is_refused():
    box = MessageCrypto(DOC_KEY, DOC_APPID)
    plain = b"r" * 16 + struct.pack(">I", 10_000) + b"short" + DOC_APPID.encode()
    plain += bytes([32 - len(plain) % 32]) * (32 - len(plain) % 32)
    enc = Cipher(algorithms.AES(box.key), modes.CBC(box.key[:16])).encryptor()
    forged = base64.b64encode(enc.update(plain) + enc.finalize()).decode()
    with pytest.raises(CryptoError, match="length"):
        box.decrypt(forged)


@pytest.mark.parametrize("key", ["A" * 42, "A" * 44, "!" * 43])
def test_an_encoding_aes_key_must_be_43_base64_characters(key):
    with pytest.raises(CryptoError):
        crypto.aes_key(key)
