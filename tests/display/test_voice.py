"""What a call sounds like: digits read one by one, the templates, recalls, other languages, the chime."""

import array

import pytest

from hall.config import ConfigError, parse_voice
from hall.display import sound
from hall.display.voice import announcement_for, announcement_text, spoken_number, spoken_number_en


def payload(number: str = "A001", window: int = 3, name: str = "综合窗口3") -> dict:
    return {"ticket": {"id": 7, "number": number, "section": number[0]}, "window": {"no": window, "name": name}}


@pytest.mark.parametrize(
    "number, spoken",
    [
        ("A001", "A 零 零 一"),
        ("B120", "B 一 二 零"),
        ("C9", "C 九"),
        ("A1000", "A 一 零 零 零"),
        ("G078", "G 零 七 八"),
    ],
)
def test_each_digit_is_read_alone_in_chinese(number, spoken):
    assert spoken_number(number) == spoken


def test_digits_in_english():
    assert spoken_number_en("A001") == "A zero zero one"
    assert spoken_number_en("B907") == "B nine zero seven"


def test_a_call_and_a_recall_say_where_to_go():
    settings = parse_voice({})
    assert announcement_text("ticket.called", payload(), settings) == "请 A 零 零 一 号 到 3 号窗口 办理"
    recall = announcement_text("ticket.recalled", payload("B012", 12), settings)
    assert recall == "请 B 零 一 二 号 再次到 12 号窗口 办理"


@pytest.mark.parametrize(
    "event_type", ["ticket.issued", "ticket.finished", "ticket.missed", "ticket.transferred", "window.opened"]
)
def test_other_events_are_not_announced(event_type):
    settings = parse_voice({})
    assert announcement_text(event_type, payload(), settings) is None
    assert announcement_for(1, event_type, payload(), settings) is None


@pytest.mark.parametrize(
    "broken",
    [{}, {"ticket": {"number": "A001"}}, {"ticket": {"number": ""}, "window": {"no": 3}}, {"window": {"no": 3}}],
)
def test_a_call_without_number_or_window_is_not_announced(broken):
    assert announcement_text("ticket.called", broken, parse_voice({})) is None


def test_templates_come_from_config():
    settings = parse_voice({"call": "{ticket} 号,请到 {window_name}", "recall": "再请 {number} 号到 {window} 号窗口"})
    assert announcement_text("ticket.called", payload(), settings) == "A001 号,请到 综合窗口3"
    assert announcement_text("ticket.recalled", payload(), settings) == "再请 A 零 零 一 号到 3 号窗口"


def test_extra_languages_follow_the_mandarin_sentence_in_their_own_voice():
    settings = parse_voice(
        {
            "repeat": 3,
            "also": ["en", "yue"],
            "templates": {
                "en": {
                    "call": "Number {number_en}, please go to window {window}",
                    "recall": "Number {number_en}, window {window}, again please",
                    "voice": "en",
                },
                "yue": "请 {number} 号 到 {window} 号窗口",  # a plain sentence: the hall's voice, the same for recalls
            },
        }
    )
    call = announcement_for(41, "ticket.called", payload(), settings)
    assert [(s.text, s.voice) for s in call.sentences] == [
        ("请 A 零 零 一 号 到 3 号窗口 办理", "cmn"),
        ("Number A zero zero one, please go to window 3", "en"),
        ("请 A 零 零 一 号 到 3 号窗口", "cmn"),
    ]
    assert (call.event_id, call.kind, call.repeat, call.chime) == (41, "call", 3, True)
    recall = announcement_for(42, "ticket.recalled", payload(), settings)
    assert recall.kind == "recall"
    assert recall.sentences[1].text == "Number A zero zero one, window 3, again please"


def test_the_cache_key_names_the_sound_not_the_event():
    settings = parse_voice({})
    first = announcement_for(1, "ticket.called", payload(), settings)
    assert first.key() == announcement_for(99, "ticket.called", payload(), settings).key()
    others = [
        announcement_for(1, "ticket.recalled", payload(), settings),
        announcement_for(1, "ticket.called", payload("A002"), settings),
        announcement_for(1, "ticket.called", payload(window=4), settings),
        announcement_for(1, "ticket.called", payload(), parse_voice({"rate": 120})),
        announcement_for(1, "ticket.called", payload(), parse_voice({"repeat": 1})),
        announcement_for(1, "ticket.called", payload(), parse_voice({"chime": False})),
        announcement_for(1, "ticket.called", payload(), parse_voice({"voice": "yue"})),
    ]
    assert len({first.key(), *(a.key() for a in others)}) == len(others) + 1


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"call": "请 {nummer} 号"}, "unknown placeholder {nummer}"),
        ({"call": "请到 {window} 号窗口"}, "must say the number"),
        ({"recall": "请 {number 号"}, "not a valid template"),
        ({"also": ["en"]}, "'en' is not a template"),
        ({"repeat": 0}, "between 1 and 5"),
        ({"rate": 1000}, "between 50 and 400"),
        ({"templates": {"en": {"call": "No. {number_en}", "lang": "en"}}}, "voice.templates.en must be"),
        ({"templates": {"en": "Window {window}"}}, "voice.templates.en.call must say the number"),
        ({"chime": "yes"}, "voice.chime must be bool"),
        ({"loud": True}, "unknown setting 'loud'"),
    ],
)
def test_config_mistakes_are_explained(raw, message):
    with pytest.raises(ConfigError) as e:
        parse_voice(raw)
    assert message in str(e.value)


def test_the_chime_is_two_soft_tones_without_a_click():
    frames = array.array("h", sound.chime(22050))
    assert len(frames) == int(22050 * 0.45) + int(22050 * 0.75)
    assert abs(frames[0]) < 50 and abs(frames[-1]) < 1000  # rises from silence, has decayed at the end
    assert 0.2 * 32767 < max(frames) < 0.4 * 32767  # audible, well below full scale
    first, second = frames[: int(22050 * 0.45)], frames[int(22050 * 0.45) :]
    assert crossings(first) / 0.45 == pytest.approx(2 * 659.25, rel=0.05)  # E5, then C5
    assert crossings(second) / 0.75 == pytest.approx(2 * 523.25, rel=0.05)


def crossings(frames) -> int:
    return sum(1 for a, b in zip(frames, frames[1:], strict=False) if (a < 0) != (b < 0))


def test_an_announcement_is_the_chime_then_the_sentences_repeated():
    rate = 16000
    sentence, extra = bytes(2 * rate), bytes(2 * rate // 2)  # 1 s and 0.5 s
    whole = sound.assemble(rate, [sentence, extra], repeat=2, with_chime=True)
    expected_s = 1.2 + sound.PAUSE_AFTER_CHIME_S + 2 * (1.5 + sound.PAUSE_BETWEEN_SENTENCES_S) + sound.PAUSE_BETWEEN_S
    assert len(whole) / 2 / rate == pytest.approx(expected_s, abs=0.001)
    assert whole.startswith(sound.chime(rate))
    assert sound.assemble(rate, [sentence], repeat=1, with_chime=False) == sentence


def test_only_16_bit_mono_wavs_are_joined(tmp_path):
    import wave

    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(bytes(400))
    with pytest.raises(sound.SoundError):
        sound.read_frames(path)
    (tmp_path / "junk.wav").write_bytes(b"not a wav")
    with pytest.raises(sound.SoundError):
        sound.read_frames(tmp_path / "junk.wav")
