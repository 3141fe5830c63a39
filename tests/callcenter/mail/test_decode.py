"""Reading Chinese mail right: GB2312 labels read as GB18030, RFC 2047, HTML-only mail, attachments, fuzz."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hall.callcenter.mail.decode import parse
from hall.callcenter.mail.settings import MailSettings
from hall.callcenter.mail.text import codec_for, decode_bytes, decode_words, html_to_text

from .samples import GBK_NAME, GBK_TEXT, b_word, gb2312_mail, header_block, html_only_mail, multipart_mail


def test_gb2312_labelled_mail_with_gbk_only_characters():
    mail = parse(gb2312_mail())
    assert mail.text == GBK_TEXT  # 堃 镕 喆 赟 珺 are not in GB2312: a strict gb2312 codec would lose them
    assert mail.from_name == GBK_NAME
    assert mail.from_address == "wang.kun@citizen.example.cn"
    assert mail.subject == "投诉:窗口态度差(朱镕基路)"
    assert mail.message_id == "<c1@citizen.example.cn>"
    assert mail.date == dt.datetime(2026, 11, 23, 9, 15, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert "\ufffd" not in mail.text + mail.subject + mail.from_name


def test_the_stdlib_alone_gets_this_wrong():
    """Why the GB18030 rule exists: Python's gb2312 codec cannot read 堃."""
    with pytest.raises(UnicodeDecodeError):
        GBK_NAME.encode("gbk").decode("gb2312")
    assert decode_bytes(GBK_NAME.encode("gbk"), "GB2312") == GBK_NAME


@pytest.mark.parametrize(
    "raw, expected",
    [
        (b_word("朱镕基"), "朱镕基"),
        (b_word("王堃", charset="GBK"), "王堃"),
        (b_word("投诉", charset="gb18030", encoding="gb18030"), "投诉"),
        ("=?UTF-8?Q?=E6=8A=95=E8=AF=89_=E5=BB=BA=E8=AE=AE?=", "投诉 建议"),
        ("=?utf-8?B?5oqV6K+J?= =?utf-8?B?5bu66K6u?=", "投诉建议"),  # whitespace between words is not text
        ("Re: " + b_word("咨询") + " [工单 2026112300012]", "Re: 咨询 [工单 2026112300012]"),
        ('"' + b_word("王堃") + '"', '"王堃"'),  # quoted encoded words, against the RFC but common
        ("=?x-unknown?B?5oqV6K+J?=", "投诉"),  # unknown charset: UTF-8 guessed
        ("=?utf-8?B?/w==?=", "\ufffd"),  # not UTF-8 after all: replaced, never raised
        ("=?utf-8?B?not a word?=", "=?utf-8?B?not a word?="),  # spaces: no encoded word, left as written
        ("plain ascii subject", "plain ascii subject"),
    ],
)
def test_rfc2047_words(raw, expected):
    assert decode_words(raw) == expected


def test_an_encoded_word_split_inside_a_character():
    data = "朱镕基".encode("gbk")  # 6 bytes; split after 3, in the middle of 镕
    raw = f"=?gb2312?B?{base64.b64encode(data[:3]).decode()}?= =?gb2312?B?{base64.b64encode(data[3:]).decode()}?="
    assert decode_words(raw) == "朱镕基"


def test_raw_8bit_headers_read_in_the_body_charset():
    raw = (
        b"From: " + "李四".encode("gbk") + b" <li@example.cn>\r\nSubject: " + "我要投诉".encode("gbk") + b"\r\n"
        b"Content-Type: text/plain; charset=gbk\r\n\r\n" + "正文".encode("gbk")
    )
    mail = parse(raw)
    assert (mail.from_name, mail.subject, mail.text) == ("李四", "我要投诉", "正文")


@pytest.mark.parametrize("label", ["gb2312", "GB2312", "gbk", "x-gbk", "cp936", "GB18030", "euc-cn"])
def test_gb_labels_all_read_as_gb18030(label):
    assert codec_for(label) == "gb18030"


@pytest.mark.parametrize("label", ["x-bogus", "base64", "zlib", "idna", "unicode_escape", "undefined", "", None])
def test_labels_that_are_no_charset_fall_back_safely(label):
    assert codec_for(label) is None
    assert decode_bytes("你好".encode(), label) == "你好"
    assert decode_bytes("你好".encode("gbk"), label) == "你好"  # not UTF-8: GB18030 guessed
    assert isinstance(decode_bytes(b"\xff\xfe\x00\x81", label), str)


def test_bogus_charset_in_a_body_part():
    raw = b"From: a@example.cn\r\nContent-Type: text/plain; charset=x-no-such\r\n\r\n" + "内容".encode("gbk")
    assert parse(raw).text == "内容"


def test_html_only_mail_becomes_safe_text():
    mail = parse(html_only_mail())
    assert mail.html_only
    assert mail.from_name == "张三" and mail.subject == "咨询"
    assert mail.text == "您好:\n\n我要咨询社保转移&接续。\n\n• 第一\n\n• 第二\n\n政府网 (https://www.gov.cn/)"
    for bad in ("<", ">", "script", "alert", "document.cookie", "color:red", "onerror"):
        assert bad not in mail.text
    (html,) = mail.attachments  # the HTML itself is kept as a file, never shown as a page
    assert html.kind == "html_body" and html.content_type == "text/html" and b"<script>" in html.data


def test_plain_text_is_preferred_over_html():
    boundary = "alt"
    raw = (
        header_block(from_="a@example.cn", content_type=f'multipart/alternative; boundary="{boundary}"')
        + f"\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n纯文本\r\n"
        f"--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>网页</p>\r\n--{boundary}--\r\n".encode()
    )
    mail = parse(raw)
    assert mail.text == "纯文本" and not mail.html_only and mail.attachments == ()


@pytest.mark.parametrize(
    "markup, text",
    [
        ("<p>a<script>b</script>c</p>", "ac"),
        ("<style>x{}</style><p>t</p>", "t"),
        ("<scr<script>ipt>x</script>y", "ipt>xy"),  # no tag survives: '<scr' is text, shown as text, never markup
        ("a<!-- hidden -->b", "ab"),
        ("<a href='javascript:alert(1)'>click</a>", "click"),
        ("<p>unclosed <script>alert(1)", "unclosed"),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2&nbsp;ok", "1 < 2 && 3 > 2 ok"),
    ],
)
def test_html_to_text(markup, text):
    assert html_to_text(markup) == text


def test_attachments_with_gb2312_names_are_kept():
    mail = parse(
        multipart_mail([("现场照片(堃).jpg", "image/jpeg", b"\xff\xd8jpeg"), ("材料.pdf", "application/pdf", b"%PDF")])
    )
    assert mail.text == "见附件,谢谢。" and mail.subject == "附件"
    assert [(a.filename, a.content_type, a.data) for a in mail.attachments] == [
        ("现场照片(堃).jpg", "image/jpeg", b"\xff\xd8jpeg"),
        ("材料.pdf", "application/pdf", b"%PDF"),
    ]
    assert mail.refused == ()


def test_attachments_over_the_limits_or_of_refused_types_are_recorded_not_kept():
    limits = replace(MailSettings(), max_attachment_bytes=1000, max_message_bytes=1500)
    mail = parse(
        multipart_mail(
            [
                ("a.jpg", "image/jpeg", b"a" * 900),
                ("big.jpg", "image/jpeg", b"b" * 1001),  # over the per-file limit
                ("b.png", "image/png", b"c" * 700),  # fits alone, but 900 + 700 > 1500
                ("c.png", "image/png", b"d" * 500),  # still fits after the one refused
                ("病毒.exe", "application/octet-stream", b"MZ"),
                ("伪装.pdf.js", "application/pdf", b"x"),  # the ending decides, not the claimed type
                ("page.html", "text/html", b"<script>"),
                ("../../etc/passwd", "text/plain", b"root"),
            ]
        ),
        limits,
    )
    assert [(a.filename, len(a.data)) for a in mail.attachments] == [("a.jpg", 900), ("c.png", 500), ("passwd", 4)]
    assert [(r.filename, r.size, r.reason) for r in mail.refused] == [
        ("big.jpg", 1001, "too_large"),
        ("b.png", 700, "message_too_large"),
        ("病毒.exe", 2, "type_not_allowed"),
        ("伪装.pdf.js", 1, "type_not_allowed"),
        ("page.html", 8, "type_not_allowed"),
    ]


def test_rfc2231_filename():
    raw = (
        header_block(from_="a@example.cn", content_type='multipart/mixed; boundary="b"')
        + b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=gb2312''%CD%F5%88%D2.pdf\r\n\r\n%PDF\r\n--b--\r\n"
    )
    assert [a.filename for a in parse(raw).attachments] == ["王堃.pdf"]


def test_threading_headers_and_case_number():
    raw = gb2312_mail(
        message_id="<reply-2@citizen.example.cn>",
        subject="Re: " + b_word("投诉") + " [工单 2026112300012]",
        in_reply_to="<hall.abc@hall.example.gov.cn>",
        references="<c1@citizen.example.cn>\r\n <hall.abc@hall.example.gov.cn>",
    )
    mail = parse(raw)
    assert mail.in_reply_to == "<hall.abc@hall.example.gov.cn>"
    assert mail.references == ("<c1@citizen.example.cn>", "<hall.abc@hall.example.gov.cn>")
    assert mail.thread_ids == ("<hall.abc@hall.example.gov.cn>", "<c1@citizen.example.cn>")
    assert mail.case_number == "2026112300012"


@pytest.mark.parametrize(
    "subject, number",
    [
        ("Re: 投诉 [工单 2026112300012]", "2026112300012"),
        ("回复:【工单号:2026112300012】", "2026112300012"),
        ("[工单#2026112300012] 追问", "2026112300012"),
        ("工单 2026112300012", None),  # no brackets: a number written in passing is not a case tag
        ("[工单 123]", None),
    ],
)
def test_case_number_in_subject(subject, number):
    raw = header_block(from_="a@example.cn", subject=b_word(subject, charset="utf-8", encoding="utf-8"))
    assert parse(raw + b"\r\nx").case_number == number


def test_case_number_pattern_is_configurable():
    custom = replace(MailSettings(), case_number_pattern=r"#(GD-\d+)")
    assert parse(header_block(from_="a@example.cn", subject="Re: #GD-77") + b"\r\n", custom).case_number == "GD-77"


def test_missing_message_id_gets_a_stable_one():
    raw = header_block(from_="a@example.cn", subject="x") + b"\r\nbody"
    assert parse(raw).message_id == parse(raw).message_id != parse(raw + b"!").message_id
    assert parse(raw).message_id.endswith("@no-message-id.hall>")


@pytest.mark.parametrize(
    "extra",
    [{"auto_submitted": "auto-replied"}, {"precedence": "bulk"}, {"x_autoreply": "yes"}],
)
def test_auto_replies_are_recognised(extra):
    assert parse(gb2312_mail(**extra)).auto_reply
    assert not parse(gb2312_mail()).auto_reply


def test_header_only_fetch_of_an_oversized_mail():
    mail = parse(gb2312_mail().split(b"\r\n\r\n")[0] + b"\r\n\r\n", omitted_size=90_000_000)
    assert mail.subject == "投诉:窗口态度差(朱镕基路)" and "90000000" in mail.text and mail.attachments == ()


def test_deeply_nested_and_broken_structures():
    nested = b"".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode() for i in range(300))
    mail = parse(b"From: a@example.cn\r\n" + nested + b"Content-Type: text/plain\r\n\r\ndeep\r\n")
    assert mail.from_address == "a@example.cn"
    for raw in (
        b"",
        b"\r\n\r\n",
        b"\x00\xff" * 100,
        b"Content-Type: multipart/mixed\r\n\r\n--\r\n",
        b"From: <<>>@\r\n",
    ):
        assert isinstance(parse(raw).text, str)


header_names = st.sampled_from(
    ["From", "Subject", "Message-ID", "In-Reply-To", "References", "Date", "Content-Type", "Content-Disposition",
     "Content-Transfer-Encoding", "Reply-To", "Auto-Submitted", "MIME-Version"]
)  # fmt: skip
pieces = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=30).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [b"=?gb2312?B?", b"?=", b"=?utf-8?Q?=E6=", b"multipart/mixed; boundary=x", b"\r\n--x\r\n", b"\r\n--x--",
         b"base64", b"quoted-printable", b"charset=gb2312", b"charset=zlib", b"filename*=utf-8''%E4", b"<a@b>",
         b"text/html", b"<script>", b"\r\n\r\n", b"\r\n ", "堃".encode("gbk"), b"message/rfc822", b"name=\"=?x?B?=\""]
    ),
)  # fmt: skip


@st.composite
def messages(draw):
    head = b"".join(
        draw(header_names).encode() + b": " + b"".join(draw(st.lists(pieces, max_size=4))) + b"\r\n"
        for _ in range(draw(st.integers(0, 8)))
    )
    return head + b"\r\n" + b"".join(draw(st.lists(pieces, max_size=12)))


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=messages())
def test_fuzz_the_decoder_never_raises(raw):
    mail = parse(raw, replace(MailSettings(), max_attachment_bytes=50, max_message_bytes=80))
    assert mail.message_id.startswith("<") and mail.message_id.endswith(">")
    for text in (mail.text, mail.subject, mail.from_name, mail.from_address):
        assert isinstance(text, str)
        assert not any("\ud800" <= c <= "\udfff" for c in text)  # storable as UTF-8
    assert sum(len(a.data) for a in mail.attachments if a.kind == "attachment") <= 80
    assert "\n" not in mail.subject and "\r" not in mail.subject
