"""The hall described by `config.toml`: sections, windows, hours and settings.

Settings are data: each has a default and a one-line help, so a config file
only names what it changes and `python -m hall settings` can list them all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import string
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(ValueError):
    """The config file is missing, unreadable or describes an impossible hall."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


QUEUE_SETTINGS = (
    Setting("recall_limit", 3, "How many times a window may recall one called ticket"),
    Setting("no_show_grace_minutes", 30, "Minutes after a no-show during which staff may put the ticket back"),
    Setting("requeue_behind", 3, "A missed ticket put back waits behind this many people"),
    Setting("estimate_sample", 20, "How many recent services the average service time is taken from"),
    Setting("default_service_minutes", 10, "Service time assumed for a section with no recent services"),
)

PRIORITY_SETTINGS = (
    Setting("lanes", ["elderly", "disabled", "military", "pregnant"], "Priority lanes (绿色通道) the hall offers"),
    Setting("elderly_age", 60, "Age (from the ID number) from which a citizen may use the elderly lane"),
    Setting(
        "max_consecutive", 3, "After this many priority calls in a row, a window calls one ordinary ticket if any waits"
    ),
)

AUTH_SETTINGS = (
    Setting("session_hours", 12, "Hours a login (token and page session) stays valid"),
    Setting("scrypt_n", 2**14, "scrypt cost parameter N for password hashes (a power of two)"),
    Setting("idle_minutes", 120, "A login unused this long ends before session_hours (0: only session_hours)"),
    Setting("lockout_failures", 5, "Wrong passwords for one username, within lockout_window_minutes, before a lockout"),
    Setting(
        "lockout_address_failures", 20, "Wrong passwords from one client address (staff may share one) before a lockout"
    ),
    Setting("lockout_window_minutes", 15, "Failures older than this (after the last lockout ends) are forgotten"),
    Setting("lockout_max_minutes", 30, "Longest lockout: 1 minute, then doubled by each further failure, up to this"),
)

LIMIT_SETTINGS = (
    Setting("enabled", True, "Rate-limit kiosks, pads, public forms and logins (429 rate_limited when exceeded)"),
    Setting("tickets", 6, "Tickets a minute one kiosk, or one client address without a device, may take"),
    Setting("check_in", 6, "Appointment check-ins a minute from one kiosk or client address"),
    Setting("ratings", 10, "Ratings a minute from one pad, or from one client address (QR / web)"),
    Setting("public", 10, "Public form posts and lookups a minute from one client address (cases, bookings)"),
    Setting("login", 10, "Login attempts a minute from one client address"),
    Setting("wechat", 600, "Requests a minute to /wechat from one address (WeChat's servers share a few)"),
)

PRIVACY_SETTINGS = (
    Setting(
        "retention_days",
        365,
        "Days citizens' phones, ID numbers, names and contacts are kept; older ones are anonymised daily (0: keep)",
    ),
)

APPOINTMENT_SETTINGS = (
    Setting("days_ahead", 7, "Open days after today one may book (today's slots that have not started as well)"),
    Setting("early_minutes", 30, "Check-in opens this many minutes before the slot (not before the section opens)"),
    Setting("late_minutes", 15, "Check-in up to this many minutes after the slot start counts as on time"),
    Setting("max_per_person_per_day", 2, "Active bookings one ID number may hold on one day, over all sections"),
)

SERVER_SETTINGS = (
    Setting("host", "127.0.0.1", "Address the server listens on"),
    Setting("port", 8080, "Port the server listens on"),
    Setting("db", "var/hall.db", "SQLite database file (relative paths are relative to the config file)"),
    Setting("max_body_kb", 256, "Largest request body accepted, in KiB"),
    Setting("access_log", False, "Write one log line per HTTP request"),
    Setting(
        "public_url", "", "Address citizens' phones reach the hall at, for QR codes (default: as the kiosk sees it)"
    ),
    Setting(
        "trusted_proxies", [], "Reverse proxies (their addresses) whose X-Forwarded-For names the client, e.g. nginx"
    ),
)

KIOSK_SETTINGS = (
    Setting("idle_seconds", 30, "A kiosk screen left untouched this long returns to the start"),
    Setting("ticket_seconds", 20, "How long the kiosk shows a printed ticket"),
)

NOTIFY_SETTINGS = (
    Setting("near_ahead", 3, "Tell a citizen (SMS / WeChat) when this many people or fewer are ahead; 0 turns it off"),
    Setting("sender", "log", "How notifications are sent: log, or http (a JSON gateway for SMS / WeChat templates)"),
    Setting("url", "", "The gateway address for sender = http; its key comes from HALL_NOTIFY_KEY"),
    Setting("max_attempts", 6, "Sends of one notification before it is given up"),
    Setting(
        "near_text",
        "【{hall}】您的号票 {number}({section})前面还有 {ahead} 人,请回到大厅留意叫号。",
        "The turn-is-near message; {hall} {number} {section} {ahead} are filled in",
    ),
)

VOICE_SETTINGS = (
    Setting("repeat", 2, "Times the sentence is spoken in one announcement (1-5)"),
    Setting("chime", True, "Play a short two-tone chime before each announcement"),
    Setting(
        "voice", "cmn", "Speech voice: an espeak-ng voice (cmn = Mandarin, espeak-ng --voices) or a SAPI voice name"
    ),
    Setting("rate", 150, "Speaking rate in words per minute (pyttsx3 rate; espeak-ng speaks 175 unless told)"),
    Setting(
        "call",
        "请 {number} 号 到 {window} 号窗口 办理",
        "What a call says; {number} (A 零 零 一), {number_en}, {ticket} (A001), {window}, {window_name}",
    ),
    Setting("recall", "请 {number} 号 再次到 {window} 号窗口 办理", "What a recall (重呼) says; the same placeholders"),
    Setting("also", [], 'Extra sentences spoken after the Mandarin one: names in [voice.templates], e.g. ["en"]'),
    Setting(
        "cache_dir",
        "",
        "Rendered announcements (WAV); empty: announcements/ next to the database; relative to the config otherwise",
    ),
    Setting("cache_mb", 512, "Largest size of the announcement cache in MiB; least recently used files go first"),
    Setting("prerender", True, "Render each call's WAV as soon as it is committed, so hall screens find it ready"),
    Setting("engine", "", "pyttsx3 driver of the server: espeak (Linux), sapi5 (Windows); empty: the platform's own"),
)

PRIORITY_LANES = ("elderly", "disabled", "military", "pregnant")
DAY_RULES = ("daily", "workdays", "weekdays")
_SECTION_ID = re.compile(r"^[A-Z]$")
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class Section:
    id: str
    name: str
    daily_cap: int
    warn_at: int
    hours: tuple[tuple[int, int], ...]  # minutes after local midnight, [start, end)
    days: str = "workdays"
    service_minutes: int | None = None
    appointment_slots: tuple[tuple[int, int], ...] = ()  # minutes after local midnight, [start, end), in order
    appointment_capacity: int = 0  # bookings per slot
    id_required: bool = False  # 实名取号: kiosks and remote requests must give an ID number

    def hours_text(self) -> str:
        return "、".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in self.hours)


@dataclass(frozen=True)
class Window:
    no: int
    name: str
    department: str
    sections: tuple[str, ...]  # in the window's order of preference
    weights: dict[str, float] = field(default_factory=dict)
    comprehensive: bool = False
    area: str = ""

    def weight(self, section: str) -> float:
        return self.weights.get(section, 1.0)

    def serves(self, section: str) -> bool:
        return section in self.sections


@dataclass(frozen=True)
class Priority:
    lanes: tuple[str, ...]
    elderly_age: int
    max_consecutive: int


@dataclass(frozen=True)
class QueueSettings:
    recall_limit: int
    no_show_grace_minutes: int
    requeue_behind: int
    estimate_sample: int
    default_service_minutes: int
    priority: Priority


@dataclass(frozen=True)
class AuthSettings:
    session_hours: int
    scrypt_n: int
    idle_minutes: int = 120
    lockout_failures: int = 5
    lockout_address_failures: int = 20
    lockout_window_minutes: int = 15
    lockout_max_minutes: int = 30


@dataclass(frozen=True)
class LimitSettings:
    """Requests a minute per device or client address, by group (see hall/web/ratelimit.py)."""

    enabled: bool = True
    tickets: int = 6
    check_in: int = 6
    ratings: int = 10
    public: int = 10
    login: int = 10
    wechat: int = 600


@dataclass(frozen=True)
class AppointmentSettings:
    days_ahead: int
    early_minutes: int
    late_minutes: int
    max_per_person_per_day: int


@dataclass(frozen=True)
class PrivacySettings:
    retention_days: int = 365


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    db: str
    max_body_kb: int
    access_log: bool
    public_url: str
    trusted_proxies: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KioskSettings:
    idle_seconds: int
    ticket_seconds: int


@dataclass(frozen=True)
class NotifySettings:
    near_ahead: int
    sender: str
    url: str
    max_attempts: int
    near_text: str


@dataclass(frozen=True)
class VoiceTemplate:
    """An extra sentence of each announcement, e.g. in English or a dialect, with the voice that speaks it."""

    call: str
    recall: str
    voice: str


@dataclass(frozen=True)
class VoiceSettings:
    repeat: int
    chime: bool
    voice: str
    rate: int
    call: str
    recall: str
    also: tuple[str, ...]
    cache_dir: str
    cache_mb: int
    prerender: bool
    engine: str
    templates: dict[str, VoiceTemplate] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """What a display agent needs to speak as the server renders (GET /api/voice)."""
        return {
            "repeat": self.repeat,
            "chime": self.chime,
            "voice": self.voice,
            "rate": self.rate,
            "call": self.call,
            "recall": self.recall,
            "also": list(self.also),
            "templates": {name: dataclasses.asdict(t) for name, t in self.templates.items()},
        }


@dataclass(frozen=True)
class Printer:
    """A thermal ticket printer (ESC/POS over TCP, port 9100) beside a kiosk, named by the kiosk's device name."""

    device: str
    host: str
    port: int = 9100


@dataclass(frozen=True)
class ScreenLayout:
    """What a hall screen shows: its title, the sections (calls to their windows) and an area of the hall."""

    title: str = ""
    sections: tuple[str, ...] = ()  # empty: every section
    area: str = ""  # non-empty: only windows of this area (e.g. 一楼)
    calls: int = 8  # how many recent calls it lists

    def as_json(self) -> dict[str, Any]:
        return {"title": self.title, "sections": list(self.sections), "area": self.area, "calls": self.calls}


@dataclass(frozen=True)
class Config:
    name: str
    timezone: str
    demo: bool
    sections: tuple[Section, ...]
    windows: tuple[Window, ...]
    queue: QueueSettings
    auth: AuthSettings
    server: ServerSettings
    appointments: AppointmentSettings
    kiosk: KioskSettings
    notify: NotifySettings
    printers: tuple[Printer, ...]
    voice: VoiceSettings
    evaluation: Any  # hall.evaluation.settings.EvaluationSettings
    callcenter: Any  # hall.callcenter.settings.CallcenterSettings
    screens: dict[str, ScreenLayout]  # by the screen's device name
    photo_dir: str
    privacy: PrivacySettings = PrivacySettings()
    limits: LimitSettings = LimitSettings()
    closed_dates: frozenset[dt.date] = frozenset()
    open_dates: frozenset[dt.date] = frozenset()
    path: Path | None = None

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _sections(self) -> dict[str, Section]:
        return {s.id: s for s in self.sections}

    @cached_property
    def _windows(self) -> dict[int, Window]:
        return {w.no: w for w in self.windows}

    @cached_property
    def _serving(self) -> dict[str, tuple[int, ...]]:
        return {s.id: tuple(w.no for w in self.windows if w.serves(s.id)) for s in self.sections}

    def section(self, section_id: str) -> Section | None:
        return self._sections.get(section_id)

    def window(self, no: int) -> Window | None:
        return self._windows.get(no)

    def service_seconds(self, section: Section) -> float:
        """Service time assumed for `section` until real services are measured."""
        return 60.0 * (section.service_minutes or self.queue.default_service_minutes)

    def serving(self, section_id: str) -> tuple[int, ...]:
        """Numbers of the windows that serve a section."""
        return self._serving.get(section_id, ())

    def layout_for(self, device_name: str) -> ScreenLayout:
        return self.screens.get(device_name, ScreenLayout())

    def printer_for(self, device_name: str) -> Printer | None:
        return next((p for p in self.printers if p.device == device_name), None)

    def voice_cache_dir(self, db_path: Path | None = None) -> Path:
        """Where rendered announcements go; by default beside the database in use (`db_path`: a `--db` override)."""
        if not self.voice.cache_dir:  # beside the database: the one place a production install makes writable
            return (db_path or self.db_path()).parent / "announcements"
        path = Path(self.voice.cache_dir)
        if not path.is_absolute() and self.path is not None:
            path = self.path.parent / path
        return path

    def db_path(self) -> Path:
        path = Path(self.server.db)
        if not path.is_absolute() and self.path is not None:
            path = self.path.parent / path
        return path


def load(path: str | Path) -> Config:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    config = parse(raw)
    return dataclasses.replace(config, path=path.resolve())


def parse(raw: dict[str, Any]) -> Config:
    """Build a Config from parsed TOML, checking everything a hall depends on."""
    if not isinstance(raw, dict):
        raise ConfigError("config must be a table")
    hall = _table(raw, "hall")
    name = _get(hall, "hall.name", str, None)
    timezone = _get(hall, "hall.timezone", str, "Asia/Shanghai")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"hall.timezone: unknown time zone {timezone!r}") from None
    sections = tuple(_section(s, i) for i, s in enumerate(_list(raw, "sections")))
    if not sections:
        raise ConfigError("sections: a hall needs at least one section")
    ids = [s.id for s in sections]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"sections: duplicate section id in {ids}")
    windows = tuple(_window(w, i, ids) for i, w in enumerate(_list(raw, "windows")))
    nos = [w.no for w in windows]
    if len(set(nos)) != len(nos):
        raise ConfigError(f"windows: duplicate window number in {nos}")
    queue_raw = _table(raw, "queue")
    priority_raw = _table(queue_raw, "priority", "queue.priority")
    queue_values = _settings({k: v for k, v in queue_raw.items() if k != "priority"}, QUEUE_SETTINGS, "queue")
    priority_values = _settings(priority_raw, PRIORITY_SETTINGS, "queue.priority")
    lanes = tuple(priority_values["lanes"])
    for lane in lanes:
        if lane not in PRIORITY_LANES:
            raise ConfigError(f"queue.priority.lanes: unknown lane {lane!r} (known: {', '.join(PRIORITY_LANES)})")
    for key in ("recall_limit", "requeue_behind", "estimate_sample", "default_service_minutes"):
        _non_negative(queue_values[key], f"queue.{key}")
    _non_negative(queue_values["no_show_grace_minutes"], "queue.no_show_grace_minutes")
    if priority_values["max_consecutive"] < 1:
        raise ConfigError("queue.priority.max_consecutive must be at least 1")
    queue = QueueSettings(
        **queue_values,
        priority=Priority(
            lanes=lanes,
            elderly_age=priority_values["elderly_age"],
            max_consecutive=priority_values["max_consecutive"],
        ),
    )
    auth_values = _settings(_table(raw, "auth"), AUTH_SETTINGS, "auth")
    n = auth_values["scrypt_n"]
    if n < 2 or n & (n - 1):
        raise ConfigError("auth.scrypt_n must be a power of two")
    for key in ("idle_minutes", "lockout_window_minutes", "lockout_max_minutes"):
        _non_negative(auth_values[key], f"auth.{key}")
    for key in ("lockout_failures", "lockout_address_failures"):
        if auth_values[key] < 1:
            raise ConfigError(f"auth.{key} must be at least 1")
    server_values = _settings(_table(raw, "server"), SERVER_SETTINGS, "server")
    privacy_values = _settings(_table(raw, "privacy"), PRIVACY_SETTINGS, "privacy")
    _non_negative(privacy_values["retention_days"], "privacy.retention_days")
    for proxy in server_values["trusted_proxies"]:
        if not isinstance(proxy, str) or not proxy.strip():
            raise ConfigError(f"server.trusted_proxies: {proxy!r} is not an address")
    limit_values = _settings(_table(raw, "limits"), LIMIT_SETTINGS, "limits")
    for key, value in limit_values.items():
        if key != "enabled" and value < 1:
            raise ConfigError(f"limits.{key} must be at least 1 a minute (limits.enabled = false turns them off)")
    return Config(
        name=name,
        timezone=timezone,
        demo=_get(hall, "hall.demo", bool, False),
        sections=sections,
        windows=windows,
        queue=queue,
        auth=AuthSettings(**auth_values),
        server=ServerSettings(**server_values),
        appointments=_appointments(_table(raw, "appointments")),
        kiosk=KioskSettings(**_settings(_table(raw, "kiosk"), KIOSK_SETTINGS, "kiosk")),
        notify=_notify(_table(raw, "notify")),
        voice=parse_voice(_table(raw, "voice")),
        evaluation=_evaluation(_table(raw, "evaluation")),
        callcenter=_callcenter(_table(raw, "callcenter")),
        printers=tuple(_printer(p, i) for i, p in enumerate(_list(raw, "printers"))),
        screens=_screens(_list(raw, "screens"), [s.id for s in sections], {w.area for w in windows}),
        photo_dir=_get(_table(raw, "display"), "display.photo_dir", str, "var/photos"),
        privacy=PrivacySettings(**privacy_values),
        limits=LimitSettings(**limit_values),
        closed_dates=_dates(hall, "closed_dates"),
        open_dates=_dates(hall, "open_dates"),
    )


def _evaluation(raw: dict[str, Any]) -> Any:
    from .evaluation.settings import parse_evaluation  # the domain owns its settings; imported late (cycle)

    return parse_evaluation(raw)


def _callcenter(raw: dict[str, Any]) -> Any:
    from .callcenter.settings import parse_callcenter  # the domain owns its settings; imported late (cycle)

    return parse_callcenter(raw)


def _section(raw: Any, index: int) -> Section:
    where = f"sections[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    sid = _get(raw, f"{where}.id", str, None)
    if not _SECTION_ID.match(sid):
        raise ConfigError(f"{where}.id must be one capital letter (it is the ticket prefix), got {sid!r}")
    cap = _get(raw, f"{where}.daily_cap", int, None)
    if cap < 1:
        raise ConfigError(f"{where}.daily_cap must be at least 1")
    warn_at = _get(raw, f"{where}.warn_at", int, max(1, cap * 9 // 10))
    if not 0 < warn_at <= cap:
        raise ConfigError(f"{where}.warn_at must be between 1 and daily_cap ({cap})")
    days = _get(raw, f"{where}.days", str, "workdays")
    if days not in DAY_RULES:
        raise ConfigError(f"{where}.days must be one of {', '.join(DAY_RULES)}")
    hours_raw = _get(raw, f"{where}.hours", list, None)
    hours = tuple(_hours(h, f"{where}.hours") for h in hours_raw)
    if not hours:
        raise ConfigError(f'{where}.hours must list at least one period like "08:30-12:00"')
    service = raw.get("service_minutes")
    if service is not None and (not isinstance(service, int) or service < 1):
        raise ConfigError(f"{where}.service_minutes must be a positive whole number")
    slots, capacity = _appointment_slots(raw, where, hours)
    id_required = _get(raw, f"{where}.id_required", bool, False)
    return Section(
        id=sid,
        name=_get(raw, f"{where}.name", str, None),
        daily_cap=cap,
        warn_at=warn_at,
        hours=hours,
        days=days,
        service_minutes=service,
        appointment_slots=slots,
        appointment_capacity=capacity,
        id_required=id_required,
    )


def _window(raw: Any, index: int, section_ids: list[str]) -> Window:
    where = f"windows[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    no = _get(raw, f"{where}.no", int, None)
    if no < 1:
        raise ConfigError(f"{where}.no must be a positive number")
    served = _get(raw, f"{where}.sections", list, None)
    comprehensive = served == ["*"]
    if comprehensive:
        served = list(section_ids)
    for sid in served:
        if sid not in section_ids:
            raise ConfigError(f"{where}.sections: unknown section {sid!r}")
    if not served or len(set(served)) != len(served):
        raise ConfigError(f'{where}.sections must list the sections it serves once each, or ["*"]')
    weights = _get(raw, f"{where}.weights", dict, {})
    for sid, weight in weights.items():
        if sid not in served:
            raise ConfigError(f"{where}.weights: window does not serve section {sid!r}")
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
            raise ConfigError(f"{where}.weights.{sid} must be a positive number")
    return Window(
        no=no,
        name=_get(raw, f"{where}.name", str, f"{no}号窗口"),
        department=_get(raw, f"{where}.department", str, ""),
        sections=tuple(served),
        weights={k: float(v) for k, v in weights.items()},
        comprehensive=comprehensive,
        area=_get(raw, f"{where}.area", str, ""),
    )


def _notify(raw: dict[str, Any]) -> NotifySettings:
    values = _settings(raw, NOTIFY_SETTINGS, "notify")
    if values["sender"] not in ("log", "http"):
        raise ConfigError("notify.sender must be log or http")
    if values["sender"] == "http" and not values["url"].startswith(("http://", "https://")):
        raise ConfigError("notify.url must be an http(s) address when notify.sender = http")
    _non_negative(values["near_ahead"], "notify.near_ahead")
    if values["max_attempts"] < 1:
        raise ConfigError("notify.max_attempts must be at least 1")
    return NotifySettings(**values)


def _screens(raw: list[Any], section_ids: list[str], areas: set[str]) -> dict[str, ScreenLayout]:
    out = {}
    for index, item in enumerate(raw):
        where = f"screens[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where} must be a table")
        device = _get(item, f"{where}.device", str, None)
        layout = parse_layout(item, where, section_ids, areas)
        if device in out:
            raise ConfigError(f"{where}.device: {device!r} has two layouts")
        out[device] = layout
    return out


def parse_layout(item: dict[str, Any], where: str, section_ids: list[str], areas: set[str]) -> ScreenLayout:
    """A screen layout from config or the manager page, checked against the hall."""
    unknown = set(item) - {"device", "title", "sections", "area", "calls"}
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    sections = _get(item, f"{where}.sections", list, [])
    if sections == ["*"]:
        sections = []
    for sid in sections:
        if sid not in section_ids:
            raise ConfigError(f"{where}.sections: unknown section {sid!r}")
    area = _get(item, f"{where}.area", str, "")
    if area and area not in areas:
        raise ConfigError(f"{where}.area: no window is in area {area!r}")
    calls = _get(item, f"{where}.calls", int, 8)
    if not 1 <= calls <= 20:
        raise ConfigError(f"{where}.calls must be between 1 and 20")
    return ScreenLayout(title=_get(item, f"{where}.title", str, ""), sections=tuple(sections), area=area, calls=calls)


# Placeholders of the voice templates, with sample values to check a template against.
TEMPLATE_FIELDS = {
    "number": "A 零 零 一",
    "number_en": "A zero zero one",
    "ticket": "A001",
    "window": 3,
    "window_name": "综合窗口1",
}


def parse_voice(raw: dict[str, Any]) -> VoiceSettings:
    """The [voice] table; display agents parse the server's GET /api/voice with it too."""
    templates_raw = _table(raw, "templates", "voice.templates")
    values = _settings({k: v for k, v in raw.items() if k != "templates"}, VOICE_SETTINGS, "voice")
    if not 1 <= values["repeat"] <= 5:
        raise ConfigError("voice.repeat must be between 1 and 5")
    if not 50 <= values["rate"] <= 400:
        raise ConfigError("voice.rate must be between 50 and 400 words per minute")
    if values["cache_mb"] < 1:
        raise ConfigError("voice.cache_mb must be at least 1")
    for key in ("voice", "call", "recall"):
        if not values[key].strip():
            raise ConfigError(f"voice.{key} must not be empty")
    _check_template(values["call"], "voice.call")
    _check_template(values["recall"], "voice.recall")
    templates = {}
    for name, item in templates_raw.items():
        where = f"voice.templates.{name}"
        if isinstance(item, str):
            item = {"call": item}
        if not isinstance(item, dict) or set(item) - {"call", "recall", "voice"}:
            raise ConfigError(f"{where} must be a sentence, or a table with call, recall and voice")
        call = _get(item, f"{where}.call", str, None)
        template = VoiceTemplate(
            call=call,
            recall=_get(item, f"{where}.recall", str, call),
            voice=_get(item, f"{where}.voice", str, values["voice"]),
        )
        _check_template(template.call, f"{where}.call")
        _check_template(template.recall, f"{where}.recall")
        templates[name] = template
    for name in values["also"]:
        if not isinstance(name, str) or name not in templates:
            raise ConfigError(f"voice.also: {name!r} is not a template in [voice.templates]")
    return VoiceSettings(**{**values, "also": tuple(values["also"])}, templates=templates)


def _check_template(text: str, where: str) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as e:
        raise ConfigError(f"{where}: not a valid template ({e}); write {{{{ and }}}} for a literal brace") from None
    for name in fields:
        if name not in TEMPLATE_FIELDS:
            raise ConfigError(f"{where}: unknown placeholder {{{name}}} (known: {', '.join(TEMPLATE_FIELDS)})")
    if not {"number", "number_en", "ticket"} & set(fields):
        raise ConfigError(f"{where} must say the number: {{number}}, {{number_en}} or {{ticket}}")


def _printer(raw: Any, index: int) -> Printer:
    where = f"printers[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    port = _get(raw, f"{where}.port", int, 9100)
    if not 0 < port < 65536:
        raise ConfigError(f"{where}.port must be a TCP port")
    return Printer(
        device=_get(raw, f"{where}.device", str, None), host=_get(raw, f"{where}.host", str, None), port=port
    )


def _appointment_slots(
    raw: dict[str, Any], where: str, hours: tuple[tuple[int, int], ...]
) -> tuple[tuple[tuple[int, int], ...], int]:
    """A section's appointment slots (预约时段): each inside one of its issuing periods, none overlapping."""
    listed = _get(raw, f"{where}.appointment_slots", list, [])
    slots = tuple(sorted(_hours(s, f"{where}.appointment_slots") for s in listed))
    capacity = _get(raw, f"{where}.appointment_capacity", int, 0)
    if not slots:
        if "appointment_capacity" in raw:
            raise ConfigError(f"{where}.appointment_capacity is set but the section has no appointment_slots")
        return (), 0
    if capacity < 1:
        raise ConfigError(f"{where}.appointment_capacity must be at least 1 when the section offers appointment_slots")
    for start, end in slots:
        if not any(a <= start and end <= b for a, b in hours):
            raise ConfigError(
                f"{where}.appointment_slots: {_hhmm(start)}-{_hhmm(end)} is not inside the section's hours"
            )
    for (_, end), (start, _) in zip(slots, slots[1:], strict=False):
        if start < end:
            raise ConfigError(f"{where}.appointment_slots: periods overlap at {_hhmm(start)}")
    return slots, capacity


def _appointments(raw: dict[str, Any]) -> AppointmentSettings:
    values = _settings(raw, APPOINTMENT_SETTINGS, "appointments")
    for key in ("days_ahead", "early_minutes", "late_minutes"):
        _non_negative(values[key], f"appointments.{key}")
    if values["days_ahead"] > 90:
        raise ConfigError("appointments.days_ahead must be at most 90")
    if values["max_per_person_per_day"] < 1:
        raise ConfigError("appointments.max_per_person_per_day must be at least 1")
    return AppointmentSettings(**values)


def _hours(text: Any, where: str) -> tuple[int, int]:
    m = _HOURS.match(text) if isinstance(text, str) else None
    if not m:
        raise ConfigError(f'{where}: {text!r} is not a period like "08:30-12:00"')
    h1, m1, h2, m2 = map(int, m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or start >= end:
        raise ConfigError(f"{where}: {text!r} is not a valid period")
    return start, end


def _settings(raw: dict[str, Any], settings: tuple[Setting, ...], where: str) -> dict[str, Any]:
    known = {s.name: s for s in settings}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {key!r} (known: {', '.join(known)})")
    values = {}
    for s in settings:
        value = raw.get(s.name, s.default)
        if type(value) is not type(s.default):
            raise ConfigError(f"{where}.{s.name} must be {type(s.default).__name__}, got {value!r}")
        values[s.name] = value
    return values


def _dates(raw: dict[str, Any], key: str) -> frozenset[dt.date]:
    out = set()
    for item in _get(raw, f"hall.{key}", list, []):
        if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
            out.add(item)
            continue
        try:
            out.add(dt.date.fromisoformat(str(item)))
        except ValueError:
            raise ConfigError(f"hall.{key}: {item!r} is not a date like 2026-10-01") from None
    return frozenset(out)


def _table(raw: dict[str, Any], key: str, where: str | None = None) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where or key} must be a table")
    return value


def _list(raw: dict[str, Any], key: str) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{key} must be an array of tables ([[{key}]])")
    return value


_MISSING = object()


def _get(raw: dict[str, Any], where: str, kind: type, default: Any) -> Any:
    key = where.rsplit(".", 1)[-1]
    value = raw.get(key, _MISSING)
    if value is _MISSING:
        if default is None:
            raise ConfigError(f"{where} is required")
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where} must be {kind.__name__}, got {value!r}")
    if kind is str and not value.strip():
        raise ConfigError(f"{where} must not be empty")
    return value


def _non_negative(value: int, where: str) -> None:
    if value < 0:
        raise ConfigError(f"{where} must not be negative")


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
