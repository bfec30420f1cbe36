"""The cron schedule: a 5-field cron (UTC) as EventBridge Scheduler's `cron(...)` and back, the longest
gap between its runs and the most runs it makes in a month."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

# Cron's five fields: name, lowest, highest, names accepted instead of numbers.
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...], int], ...] = (
    # (name, lowest, highest, names, number of the first name)
    ("minute", 0, 59, (), 0),
    ("hour", 0, 23, (), 0),
    ("day-of-month", 1, 31, (), 1),
    ("month", 1, 12, _MONTHS, 1),
    ("day-of-week", 0, 7, _WEEKDAYS, 0),  # 0 and 7 are both Sunday
)
_CRON_SHAPE = "minute hour day-of-month month day-of-week"


def cron_to_scheduler(schedule: str) -> str:
    """Translate a 5-field cron expression (UTC) into EventBridge Scheduler's 6-field `cron(...)`.

    Scheduler's fields are `minutes hours day-of-month month day-of-week year`, with `?` in
    whichever day field is unrestricted, and days of the week numbered 1-7 = SUN-SAT where
    cron numbers them 0-6 (and 7) = Sun-Sat. Each restricted field is expanded to its explicit
    values (written back as lists and ranges), so the translation is exact; weekdays are
    written as names, which Scheduler accepts and nobody can misnumber.

    Cron runs a job when *either* a restricted day-of-month or a restricted day-of-week
    matches; Scheduler must leave one of them unrestricted (`?`), so restricting both is
    refused. Raises ValueError with the reason, naming the field at fault.
    """
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"'{schedule}' is not a 5-field cron expression ({_CRON_SHAPE})")
    values = [_cron_field(text, *spec) for text, spec in zip(fields, _CRON_FIELDS, strict=True)]
    minutes, hours, days, months, weekdays = values
    day_text, weekday_text = fields[2], fields[4]
    if day_text != "*" and weekday_text != "*":
        raise ValueError(
            f"'{schedule}' restricts both day-of-month ({day_text}) and day-of-week ({weekday_text}); "
            "cron runs when either matches, which EventBridge Scheduler cannot express; set one of them to *"
        )

    def numbers(field: set[int], low: int, high: int) -> str:
        return "*" if field == set(range(low, high + 1)) else _runs(sorted(field), str)

    if weekday_text == "*":
        day_of_month, day_of_week = numbers(days, 1, 31), "?"
    else:
        # cron 0..6 = Sun..Sat becomes Scheduler 1..7 = SUN..SAT.
        scheduler_days = {day % 7 + 1 for day in weekdays}
        day_of_month = "?"
        day_of_week = "*" if len(scheduler_days) == 7 else _runs(sorted(scheduler_days), lambda d: _WEEKDAYS[d - 1])
    return (
        f"cron({numbers(minutes, 0, 59)} {numbers(hours, 0, 23)} {day_of_month} "
        f"{numbers(months, 1, 12)} {day_of_week} *)"
    )


def _cron_field(text: str, name: str, low: int, high: int, names: tuple[str, ...], first: int) -> set[int]:
    """The values one cron field selects: `*`, `n`, `a-b`, any of them `/step`, joined by commas."""
    allowed = f"{name} is {low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")

    def number(token: str) -> int:
        if token.upper() in names:
            return names.index(token.upper()) + first
        if not token.isdigit():
            raise ValueError(f"the {name} field has '{token}', which is not a number ({allowed})")
        value = int(token)
        if not low <= value <= high:
            raise ValueError(f"the {name} field has {value}, which is out of range ({allowed})")
        return value

    selected: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"the {name} field has step '{step_text}'; a step is a whole number >= 1")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            start_text, _, end_text = base.partition("-")
            start, end = number(start_text), number(end_text)
            if start > end:
                raise ValueError(f"the {name} field has the range {base}, which runs backwards ({allowed})")
        else:
            start = number(base)
            end = high if slash else start  # cron reads `a/step` as `a-highest/step`
        selected.update(range(start, end + 1, step))
    if name == "day-of-week":
        selected = {day % 7 for day in selected}  # 7 is Sunday again
    return selected


def _runs(values: list[int], show: Any) -> str:
    """`[1, 2, 3, 5]` -> `1-3,5`: runs of three or more become ranges; exact either way."""
    parts: list[str] = []
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and values[end + 1] == values[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"{show(values[start])}-{show(values[end])}")
        else:
            parts.extend(show(v) for v in values[start : end + 1])
        start = end + 1
    return ",".join(parts)


def longest_gap_seconds(schedule: str) -> int:
    """The longest time between two consecutive runs of a 5-field cron schedule (UTC), in seconds."""
    runs = itertools.pairwise(second for _, second in _runs_over_the_cycle(schedule))
    return max(later - earlier for earlier, later in runs)


def most_runs_in_a_month(schedule: str) -> int:
    """The most runs a 5-field cron schedule (UTC) makes in one calendar month: what a monthly
    budget must hold (31 for a daily run, 23 for weekdays, 1 for a 29 February run)."""
    runs = Counter(month for month, _ in _runs_over_the_cycle(schedule))
    return max(runs.values(), default=0)


def _runs_over_the_cycle(schedule: str) -> Iterator[tuple[tuple[int, int], int]]:
    """Each run as ((year, month), seconds since the start), over 8 years from 2024.

    8 years hold every calendar pattern cron can select: a 29 February schedule runs every 4
    years, and no year divisible by 100 falls in them. A schedule restricts at most one day
    field (cron_to_scheduler refuses both), so a day runs when it is in both.
    """
    cron_to_scheduler(schedule)  # the same errors as everywhere else
    minutes, hours, days, months, weekdays = (
        _cron_field(text, *spec) for text, spec in zip(schedule.split(), _CRON_FIELDS, strict=True)
    )
    times_of_day = sorted(hour * 3600 + minute * 60 for hour in hours for minute in minutes)
    start = date(2024, 1, 1)
    for offset in range(8 * 366):
        day = start + timedelta(days=offset)
        if day.month not in months or day.day not in days or day.isoweekday() % 7 not in weekdays:
            continue
        for second in times_of_day:
            yield (day.year, day.month), offset * 86400 + second


def scheduler_to_cron(expression: str) -> str:
    """EventBridge Scheduler's `cron(...)`, as cron_to_scheduler writes it, back to 5-field cron.

    cron_to_scheduler writes weekdays as names, which mean the same to both (SUN-SAT), and the
    year as `*`; `?` is cron's `*`. A weekday number (Scheduler's 1-7 is cron's 0-6, shifted) or
    a year is refused rather than misread.
    """
    fields = expression.removeprefix("cron(").removesuffix(")").split()
    if not expression.startswith("cron(") or len(fields) != 6 or fields[5] != "*":
        raise ValueError(f"'{expression}' is not a Scheduler cron(...) of 6 fields with year *")
    if any(char.isdigit() for char in fields[4]):
        raise ValueError(f"'{expression}' numbers its weekdays; cron_to_scheduler writes them as names")
    return " ".join("*" if field == "?" else field for field in fields[:5])
