"""Token buckets: the arithmetic of a request budget, on a clock the test moves."""

from __future__ import annotations

from infra.rate_limits import TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_its_minute_then_says_how_long_to_wait():
    clock = Clock()
    buckets = TokenBuckets(6, clock=clock)  # one token every 10 s
    assert [buckets.take("k") for _ in range(6)] == [None] * 6
    assert buckets.take("k") == 10
    clock.now += 9.5
    assert buckets.take("k") == 1  # half a second to go: rounded up, never 0
    clock.now += 0.5
    assert buckets.take("k") is None
    assert buckets.take("k") == 10


def test_buckets_are_separate_and_refill_only_to_their_size():
    clock = Clock()
    buckets = TokenBuckets(2, clock=clock)
    assert buckets.take("a") is None and buckets.take("a") is None
    assert buckets.take("a") is not None
    assert buckets.take("b") is None  # another name has its own budget
    clock.now += 3600  # an hour idle refills to two, not to 120
    assert [buckets.take("a") for _ in range(3)] == [None, None, 30]


def test_zero_means_no_limit_and_the_set_of_names_is_bounded():
    assert all(TokenBuckets(0).take("k") is None for _ in range(10_000))
    clock = Clock()
    buckets = TokenBuckets(1, capacity=3, clock=clock)
    for name in "abcd":
        assert buckets.take(name) is None
    assert len(buckets._buckets) == 3
    assert buckets.take("d") == 60  # the most recent are kept
