"""WeChat message bodies as the official account platform posts them, and hostile ones."""

OPENID = "oX1y2Z3aBcDeFgHiJkLmNoPqRsTu"
ACCOUNT = "gh_3a5f7c9e1b2d"


def text(content: str, msg_id: str = "24600000000000001", openid: str = OPENID, created: int = 1795397400) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def image(msg_id: str = "24600000000000002") -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        "<CreateTime>1795397401</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        "<PicUrl><![CDATA[http://mmbiz.qpic.cn/mmbiz_jpg/abc/0]]></PicUrl>"
        f"<MediaId><![CDATA[media_image_1]]></MediaId><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def voice(recognition: str = "", msg_id: str = "24600000000000003") -> bytes:
    recognised = f"<Recognition><![CDATA[{recognition}]]></Recognition>" if recognition else ""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        "<CreateTime>1795397402</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
        f"<MediaId><![CDATA[media_voice_1]]></MediaId><Format><![CDATA[amr]]></Format>{recognised}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def event(name: str, key: str = "", created: int = 1795397403) -> bytes:
    event_key = f"<EventKey><![CDATA[{key}]]></EventKey>" if key else ""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{name}]]></Event>{event_key}</xml>"
    ).encode()


def location() -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        "<CreateTime>1795397404</CreateTime><MsgType><![CDATA[location]]></MsgType>"
        "<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale>"
        "<Label><![CDATA[位置信息]]></Label><MsgId>24600000000000004</MsgId></xml>"
    ).encode()


# Ten levels of ten: a few hundred bytes that expand to a gigabyte in a parser that expands entities.
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE xml [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + "]>\n<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
    "<MsgType>text</MsgType><Content>&lol9;</Content></xml>"
).encode()

EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
    b"<MsgType>text</MsgType><Content>&secret;</Content></xml>"
)

EXTERNAL_DTD = (
    b'<?xml version="1.0"?>\n<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
    b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><MsgType>text</MsgType></xml>"
)

QUADRATIC_BLOWUP = (
    '<?xml version="1.0"?>\n<!DOCTYPE xml [<!ENTITY a "' + "x" * 5000 + '">]>\n'
    "<xml><FromUserName>b</FromUserName><MsgType>text</MsgType><Content>" + "&a;" * 5000 + "</Content></xml>"
).encode()
