"""bench.harness.tail: what a half-load window's tail is made of."""

from __future__ import annotations

from bench.harness import tail


def test_slow_requests_scheduled_close_together_are_one_episode() -> None:
    samples = [
        (0.000, 2.0),
        (0.010, 40.0),  # episode 1: three slow requests 10-20 ms apart
        (0.020, 31.0),
        (0.040, 16.0),
        (0.050, 3.0),  # fast requests between slow ones do not split an episode...
        (0.200, 25.0),  # ...but a gap of 50 ms or more does: episode 2
        (0.900, 15.0),  # exactly the threshold is not over it
        (0.950, 2.5),
    ]
    found = tail.episodes(list(reversed(samples)), threshold_ms=15.0)
    assert found == {
        "threshold_ms": 15.0,
        "requests": 8,
        "over": 4,
        "episodes": 2,
        "largest": 3,
        "largest_at_s": 0.01,
        "largest_span_ms": 30.0,
        "largest_worst_ms": 40.0,
    }


def test_a_window_without_slow_requests_has_no_episode() -> None:
    found = tail.episodes([(0.0, 1.0), (0.1, 2.0)], threshold_ms=15.0)
    assert (found["over"], found["episodes"], found["largest"]) == (0, 0, 0)
    assert found["largest_at_s"] is None


def test_box_share_counts_busy_and_stolen_ticks() -> None:
    #        user nice system idle iowait irq softirq steal guest guest_nice
    before = [100, 0, 20, 500, 10, 0, 5, 0, 0, 0]
    after = [160, 0, 30, 530, 20, 0, 10, 10, 7, 0]  # guest ticks are inside user
    share = tail.box_share(before, after)
    # busy: user 60 + system 10 + softirq 5 + steal 10 = 85 of 125 ticks
    assert share["busy_share"] == round(85 / 125, 3)
    assert share["steal_share"] == round(10 / 125, 3)
    assert share["busy_core_s"] > 0


def test_box_cpu_reads_this_machine() -> None:
    first = tail.box_cpu()
    assert len(first) >= 8
    assert all(x >= 0 for x in first)
    spin = sum(i * i for i in range(200_000))  # some CPU between the readings
    assert spin > 0
    second = tail.box_cpu()
    assert sum(second[:8]) >= sum(first[:8])
