"""`[callcenter.ami]`: defaults, the secret only from the environment, and clear errors."""

from __future__ import annotations

import pytest

from hall.callcenter.ami.settings import parse_ami
from hall.config import ConfigError


def test_defaults_leave_the_phone_off_without_a_secret():
    s = parse_ami({}, environ={})
    assert (s.enabled, s.host, s.port, s.username, s.queues) == (False, "127.0.0.1", 5038, "hall", ("hotline",))
    assert s.secret == ""


def test_the_secret_comes_from_the_named_variable_and_turns_the_phone_on():
    s = parse_ami({"secret_env": "DESK_AMI"}, environ={"DESK_AMI": "pa55"})
    assert s.enabled and s.secret == "pa55"
    assert "pa55" not in repr(s)


def test_enabled_false_wins_over_a_secret():
    assert not parse_ami({"enabled": False}, environ={"HALL_AMI_SECRET": "x"}).enabled


def test_agents_map_interfaces_both_ways():
    s = parse_ami({"agents": {"zhang": "PJSIP/8001", "li": "SIP/8002"}}, environ={})
    assert s.agent_for("PJSIP/8001") == "zhang" and s.agent_for("pjsip/8001") == "zhang"
    assert s.agent_for("PJSIP/9999") is None
    assert s.interface_of("li") == "SIP/8002"


@pytest.mark.parametrize(
    ("raw", "environ", "message"),
    [
        ({"secret": "pa55"}, {}, "do not write the AMI secret in the config file"),
        ({"enabled": True}, {}, "HALL_AMI_SECRET .*is not set"),
        ({"enabled": "yes"}, {}, 'enabled must be true, false or "auto"'),
        ({"enabled": 1}, {}, "enabled must be true, false"),
        ({"port": 0}, {}, "port must be between 1 and 65535"),
        ({"port": "5038"}, {}, "port must be int"),
        ({"hosts": "x"}, {}, "unknown setting 'hosts'"),
        ({"secret_env": "HALL AMI"}, {}, "is not an environment variable name"),
        ({"queues": []}, {}, "queues must list queue names"),
        ({"queues": ["hot line"]}, {}, "queues must list queue names"),
        ({"agents": {"zhang": "8001"}}, {}, "agents.zhang: '8001' is not a queue member interface"),
        ({"agents": {"zhang": "PJSIP/8001", "li": "pjsip/8001"}}, {}, "given to both zhang and li"),
        ({"ping_timeout_seconds": 0}, {}, "ping_timeout_seconds must be at least 1"),
        ({"originate_caller_id": "a\nb"}, {}, "one line"),
    ],
)
def test_mistakes_are_explained(raw, environ, message):
    with pytest.raises(ConfigError, match=message):
        parse_ami(raw, environ=environ)
