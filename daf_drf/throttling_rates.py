"""
Rate strings, parsed as DRF parses them, and refused where DRF would crash on or misread them.

`daf_drf.throttling` re-exports both functions; the system checks call `rate_problem` to
report a bad rate at startup.
"""

from __future__ import annotations

import re

from django.core.exceptions import ImproperlyConfigured

__all__ = ["parse_rate", "rate_problem"]

_DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(
    r"(?P<num>\d+)/(?P<period>s|sec|secs|second|seconds|m|min|mins|minute|minutes"
    r"|h|hr|hrs|hour|hours|d|day|days)"
)


def rate_problem(rate: object) -> str | None:
    """Return why DRF would crash on or misread the rate string `rate`, or `None` if it's valid."""
    if rate is None:
        return None
    if not isinstance(rate, str):
        return f"{rate!r} is not a string like '100/hour'"
    if _RATE.fullmatch(rate):
        return None
    num, _, period = rate.partition("/")
    if num.isdigit() and period[:1] in _DURATIONS:
        seconds = _DURATIONS[period[0]]
        return (
            f"{rate!r} is not a period daf_drf accepts; DRF reads only the first letter of "
            f"the period and would silently count {num} per {seconds} s"
        )
    return f"{rate!r} is not '<non-negative integer>/<period>'"


def parse_rate(rate: str | None, scope: object = None) -> tuple[int | None, int | None]:
    """
    Parse a rate string as DRF does, rejecting what DRF would crash on or misread.

    Accepted periods: `s`, `sec`, `secs`, `second`, `seconds`, `m`, `min`, `mins`, `minute`,
    `minutes`, `h`, `hr`, `hrs`, `hour`, `hours`, `d`, `day`, `days`, after a non-negative
    integer (`0/s` blocks every request). `None` means "no limit", as in DRF.
    """
    # Every throttle instance parses its rate (DRF's `__init__`): once per string is enough.
    parsed = _PARSED.get(rate) if isinstance(rate, str) else None
    if parsed is not None:
        return parsed
    problem = rate_problem(rate)
    if problem:
        raise ImproperlyConfigured(
            f"Invalid throttle rate for scope {scope!r}: {problem}. Use e.g. '3/s', "
            "'10/min', '5/hour' or '100/day'."
        )
    if rate is None:
        return (None, None)
    num, period = rate.split("/")
    if len(_PARSED) >= 1024:  # rates computed per request would otherwise grow it forever
        _PARSED.clear()
    parsed = _PARSED[rate] = (int(num), _DURATIONS[period[0]])
    return parsed


_PARSED: dict[str, tuple[int, int]] = {}
