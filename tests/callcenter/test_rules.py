"""The case state machine and routing as plain functions: every legal and illegal move."""

import pytest

from hall.callcenter import rules
from hall.callcenter.routing import Candidate, choose_agent
from hall.errors import BadRequest, Conflict


@pytest.mark.parametrize("action", list(rules.MOVES))
@pytest.mark.parametrize("status", list(rules.STATES))
def test_every_move_from_every_state(status: str, action: str):
    if status in rules.MOVES[action]:
        rules.check_move(status, action)  # legal: no error
        return
    with pytest.raises(Conflict) as e:
        rules.check_move(status, action)
    if status == "closed":
        assert e.value.code == "case_closed"
    elif action == "close" and status in ("answered", "reviewed"):
        assert e.value.code == "return_visit_required"
    else:
        assert e.value.code == "illegal_move"
        assert rules.STATES[status] in e.value.message


def test_nothing_closes_without_a_return_visit():
    closable = {s for s in rules.STATES if s in rules.MOVES["close"]}
    assert closable == {"visited"}  # and only a return visit leads there


@pytest.mark.parametrize(
    ("shares", "status"),
    [
        ([], "accepted"),
        (["returned"], "accepted"),
        (["pending"], "dispatched"),
        (["pending", "signed"], "dispatched"),
        (["signed", "answered"], "signed"),
        (["answered", "answered"], "fed_back"),
        (["answered", "returned"], "fed_back"),
        (["signed", "returned"], "signed"),
    ],
)
def test_the_case_follows_its_departments(shares, status):
    assert rules.status_from_dispatches(shares) == status


def test_return_visit_outcomes():
    assert rules.visit_outcome(True, True, 0, 3) == "satisfied"
    assert rules.visit_outcome(True, False, 2, 3) == "unsatisfied"
    assert rules.visit_outcome(False, None, 0, 3) is None  # one attempt, still owed
    assert rules.visit_outcome(False, None, 1, 3) is None
    assert rules.visit_outcome(False, None, 2, 3) == "unreached"  # the third documented attempt
    with pytest.raises(BadRequest):
        rules.visit_outcome(True, None, 0, 3)
    with pytest.raises(BadRequest):
        rules.visit_outcome(False, True, 0, 3)


def test_least_busy_routing_is_fair():
    agents = [Candidate(1, 100.0), Candidate(2, 50.0), Candidate(3, None)]
    assert choose_agent(agents, {1: 0, 2: 0, 3: 0}, "least_busy", 5) == 3  # never had one
    assert choose_agent(agents, {1: 0, 2: 0, 3: 1}, "least_busy", 5) == 2  # equal load: waited longest
    assert choose_agent(agents, {1: 0, 2: 1, 3: 1}, "least_busy", 5) == 1
    assert choose_agent(agents, {1: 5, 2: 5, 3: 5}, "least_busy", 5) is None  # all at capacity
    assert choose_agent([], {}, "least_busy", 5) is None


def test_round_robin_takes_turns_whatever_the_load():
    agents = [Candidate(1, 300.0), Candidate(2, 100.0), Candidate(3, 200.0)]
    assert choose_agent(agents, {2: 4}, "round_robin", 5) == 2
    assert choose_agent(agents, {2: 5}, "round_robin", 5) == 3  # 2 is full


def test_round_robin_over_many_cases_is_even():
    last = {1: None, 2: None, 3: None}
    counts = {1: 0, 2: 0, 3: 0}
    for t in range(300):
        agent = choose_agent([Candidate(a, last[a]) for a in last], {}, "round_robin", 10)
        last[agent] = float(t)
        counts[agent] += 1
    assert counts == {1: 100, 2: 100, 3: 100}
