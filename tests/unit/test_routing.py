import random

from pigeon.config import QueueRoute
from pigeon.routing import pick_queues


def test_100_and_0_percent_are_exact():
    rng = random.Random(1)
    routes = (QueueRoute("all", 100), QueueRoute("none", 0))
    for _ in range(1000):
        assert pick_queues(routes, rng) == (["all"], ["none"])


def test_a_percentage_is_the_chance_over_all_outcomes():
    # randrange(100) takes each of 0..99 once in 100 draws of a cycling rng: exactly 15 pass.
    class Cycling(random.Random):
        def __init__(self):
            super().__init__()
            self.n = -1

        def randrange(self, stop):
            self.n = (self.n + 1) % stop
            return self.n

    rng = Cycling()
    chosen = sum(bool(pick_queues((QueueRoute("q", 15),), rng)[0]) for _ in range(100))
    assert chosen == 15


def test_a_percentage_holds_statistically():
    rng = random.Random(20181113)
    n = 20000
    chosen = sum(bool(pick_queues((QueueRoute("q", 15),), rng)[0]) for _ in range(n))
    assert abs(chosen / n - 0.15) < 0.01
