"""How busy the demo company is, hour by hour: one pace for its history and for its live agents.

The seeded history and the simulator draw from the same curve, so the last 24 hours look like the 24
before them, and the overview's comparisons show the company's rhythm, not the seam where the history
stops and the simulator starts.
"""

import datetime as dt
import math
import random

# Actions per second in the busiest hour of a working day. Quiet enough that a person can follow the
# live stream and the history seeds in seconds on SQLite; `manage.py demo --rate` changes the live pace.
PEAK_RATE = 0.05
# Share of the peak, by UTC hour: a working day with a quieter night (agents do not sleep).
HOURLY = (
    0.25, 0.22, 0.2, 0.2, 0.22, 0.3, 0.45, 0.65, 0.85, 0.95, 1.0, 1.0,
    0.95, 1.0, 1.0, 0.95, 0.85, 0.7, 0.55, 0.45, 0.38, 0.33, 0.3, 0.27,
)  # fmt: skip
WEEKEND = 0.35


def rate_at(moment: dt.datetime, peak: float = PEAK_RATE) -> float:
    """Actions per second the company makes at this moment."""
    moment = moment.astimezone(dt.UTC)
    return peak * HOURLY[moment.hour] * (WEEKEND if moment.weekday() >= 5 else 1.0)


def hour_starts(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The UTC hours overlapping [start, end)."""
    hour = start.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    hours = []
    while hour < end:
        hours.append(hour)
        hour += dt.timedelta(hours=1)
    return hours


def moments(rng: random.Random, start: dt.datetime, end: dt.datetime, peak: float = PEAK_RATE) -> list[dt.datetime]:
    """When the company acted in [start, end), drawn at the pace of `rate_at` (a Poisson process), in order."""
    at = []
    for hour in hour_starts(start, end):
        lower, upper = max(hour, start), min(hour + dt.timedelta(hours=1), end)
        seconds = (upper - lower).total_seconds()
        for _ in range(_poisson(rng, rate_at(hour, peak) * seconds)):
            at.append(lower + dt.timedelta(seconds=rng.random() * seconds))
    return sorted(at)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 50:  # the normal approximation is close at this size and needs no loop
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
