"""AMI framing: whole messages only, the banner, Chinese split mid-character, and garbage refused cleanly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall.callcenter.ami.protocol import Framer, ProtocolError, encode_action, parse_message

BANNER = b"Asterisk Call Manager/9.0.0\r\n"
JOIN = (
    "Event: QueueCallerJoin\r\nPrivilege: agent,all\r\nChannel: PJSIP/trunk-00000001\r\n"
    "CallerIDNum: 13800138000\r\nCallerIDName: 张三\r\nQueue: hotline\r\nPosition: 1\r\n\r\n"
).encode()


def feed_in_pieces(data: bytes, cuts: list[int]) -> tuple[Framer, list]:
    framer = Framer()
    out = []
    edges = [0, *sorted(set(cuts)), len(data)]
    for start, end in zip(edges, edges[1:], strict=False):
        out += framer.feed(data[start:end])
    return framer, out


def test_banner_then_messages():
    framer, messages = feed_in_pieces(BANNER + b"Response: Success\r\nActionID: hall-1\r\nPing: Pong\r\n\r\n", [])
    assert framer.banner == "Asterisk Call Manager/9.0.0"
    assert [m.as_dict() for m in messages] == [{"Response": "Success", "ActionID": "hall-1", "Ping": "Pong"}]
    assert messages[0].action_id == "hall-1"


def test_a_chinese_name_split_inside_a_character_survives():
    data = BANNER + JOIN
    cut = data.index("张".encode()) + 1  # between the first and second byte of 张
    framer, messages = feed_in_pieces(data, [cut])
    assert messages[0]["CallerIDName"] == "张三"


@pytest.mark.parametrize("cut", range(1, len(BANNER + JOIN)))
def test_every_split_point_gives_the_same_message(cut):
    _, messages = feed_in_pieces(BANNER + JOIN, [cut])
    assert len(messages) == 1 and messages[0]["CallerIDName"] == "张三"


def test_nothing_until_the_blank_line():
    framer = Framer()
    assert framer.feed(BANNER + JOIN[:-2]) == []
    assert framer.pending == len(JOIN) - 2
    assert framer.feed(b"\r\n")[0].event == "QueueCallerJoin"
    assert framer.pending == 0


def test_duplicate_keys_keep_every_value_and_keys_ignore_case():
    m = parse_message(b"Event: Newchannel\r\nChanVariable: A=1\r\nChanVariable: B=2\r\nuniqueid: 17.1")
    assert m.getall("ChanVariable") == ["A=1", "B=2"]
    assert m["ChanVariable"] == "A=1"
    assert m.get("Uniqueid") == "17.1"
    assert "UNIQUEID" in m and "Linkedid" not in m


def test_values_keep_colons_and_empty_values():
    m = parse_message(
        b"Response: Success\r\nMessage: Command output follows\r\nOutput: Name/username: 8001\r\nAccountCode: "
    )
    assert m.output == ["Name/username: 8001"]
    assert m["AccountCode"] == ""


def test_asterisk_before_14_command_output():
    raw = (
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: hall-7\r\n"
        b"hotline has 0 calls (max unlimited)\n   No Callers\n--END COMMAND--"
    )
    m = parse_message(raw)
    assert m.action_id == "hall-7"
    assert m.output == ["hotline has 0 calls (max unlimited)", "   No Callers"]


def test_gb18030_from_an_old_trunk_is_read_rather_than_mangled():
    m = parse_message("Event: Newchannel\r\nCallerIDName: 王五".encode("gb18030"))
    assert m["CallerIDName"] == "王五"


def test_a_malformed_message_is_skipped_and_the_next_one_kept():
    framer = Framer()
    out = framer.feed(BANNER + b"this is not a header\r\n\r\n" + JOIN)
    assert [m.event for m in out] == ["QueueCallerJoin"]
    assert len(framer.skipped) == 1 and "not a 'Key: Value' line" in str(framer.skipped[0])


@pytest.mark.parametrize(
    "data",
    [b"HTTP/1.1 200 OK\r\n", b"SSH-2.0-OpenSSH_9.6\r\n", b"x" * 300],
)
def test_a_peer_that_is_not_asterisk_is_refused(data):
    with pytest.raises(ProtocolError, match="Asterisk Call Manager"):
        Framer().feed(data)


def test_a_message_without_end_is_refused():
    framer = Framer(max_bytes=1000)
    framer.feed(BANNER)
    with pytest.raises(ProtocolError, match="longer than 1000"):
        framer.feed(b"Event: X\r\n" + b"A: b\r\n" * 300)


def test_encode_action_repeats_keys_and_refuses_line_breaks():
    data = encode_action("Originate", [("Channel", "PJSIP/8001"), ("Variable", "A=1"), ("Variable", "B=2")], "hall-3")
    assert data == (
        b"Action: Originate\r\nActionID: hall-3\r\nChannel: PJSIP/8001\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n"
    )
    assert (
        encode_action("QueuePause", {"Paused": True, "Reason": "话后整理"})
        .decode()
        .endswith("Paused: true\r\nReason: 话后整理\r\n\r\n")
    )
    with pytest.raises(ValueError):
        encode_action("Originate", {"Exten": "123\r\nAction: Logoff"})


def test_encoded_actions_parse_back():
    fields = {"Channel": "PJSIP/8001", "CallerID": '"回访" <12345>', "Variable": "HALL_CASE=42"}
    m = parse_message(encode_action("Originate", fields, "hall-9").rstrip(b"\r\n"))
    assert m.as_dict() == {"Action": "Originate", "ActionID": "hall-9", **fields}


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(st.binary(max_size=200), max_size=8), st.booleans())
def test_garbage_never_raises_anything_but_protocol_error(chunks, with_banner):
    framer = Framer(max_bytes=2000)
    try:
        if with_banner:
            framer.feed(BANNER)
        for chunk in chunks:
            for m in framer.feed(chunk):
                assert m.items  # a message that came out has fields
    except ProtocolError:
        pass


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=":"), min_size=1),
            st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30),
        ),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.integers(min_value=0, max_value=400), max_size=5),
)
def test_any_well_formed_message_survives_any_split(fields, cuts):
    data = BANNER + encode_action("Test", fields)
    _, messages = feed_in_pieces(data, [c for c in cuts if c < len(data)])
    assert len(messages) == 1
    assert messages[0].items[1:] == tuple(fields)
