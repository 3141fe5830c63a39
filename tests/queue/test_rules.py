"""The calling rule as a plain function: which ticket does a window call next."""

import pytest

from hall.config import Window
from hall.queue.rules import Candidate, choose_next, estimate_wait, expected_wait, next_streak, requeue_key

NOW = 10_000.0
COMPREHENSIVE = Window(no=1, name="综合", department="", sections=("A", "B", "C"), comprehensive=True)


def c(id_: int, section: str = "A", waited: float = 0, priority: int = 0, target: int | None = None) -> Candidate:
    return Candidate(id_, section, priority, NOW - waited, target)


def test_nobody_waiting_means_nothing_to_call():
    assert choose_next([], COMPREHENSIVE, 0, 3, NOW) is None


def test_first_come_first_served_across_all_sections_a_window_serves():
    pool = [c(1, "A", waited=60), c(2, "B", waited=300), c(3, "C", waited=120)]
    assert choose_next(pool, COMPREHENSIVE, 0, 3, NOW).id == 2


def test_priority_lane_goes_before_ordinary_even_when_newer():
    pool = [c(1, "A", waited=900), c(2, "B", waited=5, priority=1)]
    assert choose_next(pool, COMPREHENSIVE, 0, 3, NOW).id == 2


def test_after_max_consecutive_priority_calls_one_ordinary_ticket_is_called():
    pool = [c(1, "A", waited=900), c(2, "B", waited=5, priority=1)]
    assert choose_next(pool, COMPREHENSIVE, 2, 3, NOW).id == 2  # third priority in a row still allowed
    assert choose_next(pool, COMPREHENSIVE, 3, 3, NOW).id == 1  # then an ordinary one


def test_priority_continues_when_no_ordinary_ticket_waits():
    pool = [c(2, "B", waited=5, priority=1)]
    assert choose_next(pool, COMPREHENSIVE, 10, 3, NOW).id == 2


def test_streak_counts_priority_calls_and_resets_on_ordinary():
    assert next_streak(2, c(1, priority=1)) == 3
    assert next_streak(2, c(1)) == 0


def test_window_ignores_sections_it_does_not_serve():
    window = Window(no=3, name="不动产", department="", sections=("B",))
    pool = [c(1, "A", waited=900), c(2, "B", waited=10)]
    assert choose_next(pool, window, 0, 3, NOW).id == 2
    assert choose_next([c(1, "A", waited=900)], window, 0, 3, NOW) is None


def test_section_weight_favours_a_section():
    window = Window(no=4, name="综合", department="", sections=("A", "B"), weights={"B": 3.0})
    pool = [c(1, "A", waited=200), c(2, "B", waited=100)]  # B's claim 300 beats A's 200
    assert choose_next(pool, window, 0, 3, NOW).id == 2
    pool = [c(1, "A", waited=400), c(2, "B", waited=100)]  # A's 400 beats B's 300
    assert choose_next(pool, window, 0, 3, NOW).id == 1


def test_equal_claims_go_to_the_window_s_first_section_then_the_earlier_ticket():
    window = Window(no=2, name="综合", department="", sections=("B", "A"))
    assert choose_next([c(1, "A", waited=60), c(2, "B", waited=60)], window, 0, 3, NOW).id == 2
    assert choose_next([c(5, "A", waited=60), c(4, "A", waited=60)], window, 0, 3, NOW).id == 4


def test_ticket_sent_to_a_window_waits_for_that_window_only():
    other = Window(no=2, name="综合", department="", sections=("A",))
    target = Window(no=7, name="专窗", department="", sections=("C",))
    sent = c(9, "A", waited=999, target=7)
    assert choose_next([sent, c(1, "A", waited=10)], other, 0, 3, NOW).id == 1
    assert choose_next([sent], target, 0, 3, NOW).id == 9


@pytest.mark.parametrize(
    ("keys", "behind", "expected"),
    [
        ([], 3, NOW),  # nobody waits: at the end, i.e. now
        ([100.0, 200.0], 3, NOW),  # fewer than N wait: after all of them
        ([100.0, 200.0, 300.0, 400.0], 3, 350.0),  # between the 3rd and the 4th
        ([100.0, 200.0], 0, 99.999),  # behind nobody: first
    ],
)
def test_missed_ticket_put_back_behind_n_people(keys, behind, expected):
    assert requeue_key(keys, behind, NOW) == pytest.approx(expected)


def test_estimated_wait_is_average_service_times_position_over_open_windows():
    assert estimate_wait(ahead=6, average_service_s=300, windows=2) == 900
    assert estimate_wait(ahead=0, average_service_s=300, windows=2) == 0
    assert estimate_wait(ahead=3, average_service_s=300, windows=0) == 900  # never divides by zero


def test_expected_wait_falls_back_to_default_service_and_all_serving_windows():
    assert expected_wait(4, None, 600, open_windows=0, serving=2) == 1200
    assert expected_wait(4, 120.0, 600, open_windows=1, serving=2) == 480
