"""The cron translation: each 5-field cron schedule becomes the EventBridge Scheduler cron that runs at the same times."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from croniter import croniter

from components.config import cron_to_scheduler
from components.config.cron import longest_gap_seconds, most_runs_in_a_month, scheduler_to_cron

# (cron, EventBridge Scheduler): Scheduler numbers weekdays 1-7 = SUN-SAT, cron 0-6 (and 7)
# = Sun-Sat; the translation writes weekdays as names, so neither numbering can slip.
CRON_PAIRS = [
    ("0 3 * * *", "cron(0 3 * * ? *)"),
    ("0 2 * * 1-5", "cron(0 2 ? * MON-FRI *)"),
    ("0 0 * * 0", "cron(0 0 ? * SUN *)"),
    ("0 0 * * 7", "cron(0 0 ? * SUN *)"),
    ("0 0 * * 0,7", "cron(0 0 ? * SUN *)"),
    ("0 0 * * 6", "cron(0 0 ? * SAT *)"),
    ("0 0 * * 5-7", "cron(0 0 ? * SUN,FRI,SAT *)"),
    ("15 6 * * 1,3,5", "cron(15 6 ? * MON,WED,FRI *)"),
    ("0 0 * * */2", "cron(0 0 ? * SUN,TUE,THU,SAT *)"),
    ("0 0 * * sun-wed", "cron(0 0 ? * SUN-WED *)"),
    ("*/15 * * * *", "cron(0,15,30,45 * * * ? *)"),
    ("5/20 * * * *", "cron(5,25,45 * * * ? *)"),
    ("0 9-17/4 * * *", "cron(0 9,13,17 * * ? *)"),
    ("30 4 1 */3 *", "cron(30 4 1 1,4,7,10 ? *)"),
    ("0 0 1,15 * *", "cron(0 0 1,15 * ? *)"),
    ("0 0 10-20 * *", "cron(0 0 10-20 * ? *)"),
    ("0 12 * jan,jul *", "cron(0 12 * 1,7 ? *)"),
    ("0 12 * JAN-MAR mon", "cron(0 12 ? 1-3 MON *)"),
    ("0-4 0 * * *", "cron(0-4 0 * * ? *)"),
    ("0 0 1-31 * *", "cron(0 0 * * ? *)"),
    ("* * * * *", "cron(* * * * ? *)"),
]


@pytest.mark.parametrize(("cron", "scheduler"), CRON_PAIRS)
def test_cron_translates_to_scheduler_cron(cron: str, scheduler: str) -> None:
    assert cron_to_scheduler(cron) == scheduler


@pytest.mark.parametrize("cron", [cron for cron, _ in CRON_PAIRS])
def test_cron_translation_selects_what_croniter_selects(cron: str) -> None:
    # An independent parser as the oracle: the same minutes, hours, days and months.
    expected, _ = croniter.expand(cron)
    fields = cron_to_scheduler(cron).removeprefix("cron(").removesuffix(")").split()
    names = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    def values(text: str, low: int, high: int, weekday: bool = False) -> set[int]:
        if text in ("*", "?"):
            return set(range(low, high + 1))
        chosen: set[int] = set()
        for part in text.split(","):
            first, _, last = part.partition("-")
            as_int = (lambda t: names.index(t) + 1) if weekday else int
            chosen.update(range(as_int(first), as_int(last or first) + 1))
        return chosen

    def oracle(field: list[Any], low: int, high: int) -> set[int]:
        return set(range(low, high + 1)) if field == ["*"] else {int(v) for v in field}

    assert values(fields[0], 0, 59) == oracle(expected[0], 0, 59)
    assert values(fields[1], 0, 23) == oracle(expected[1], 0, 23)
    assert values(fields[2], 1, 31) == oracle(expected[2], 1, 31)
    assert values(fields[3], 1, 12) == oracle(expected[3], 1, 12)
    cron_weekdays = {(d % 7) + 1 for d in oracle(expected[4], 0, 6)}  # cron Sun=0 -> Scheduler SUN=1
    assert values(fields[4], 1, 7, weekday=True) == cron_weekdays
    assert fields[5] == "*", "every year"
    assert "?" in (fields[2], fields[4]), "Scheduler needs one day field unrestricted"


def test_cron_with_both_day_fields_is_refused() -> None:
    # cron ORs day-of-month with day-of-week; Scheduler must leave one of them as `?`.
    with pytest.raises(ValueError, match="both day-of-month .* and day-of-week"):
        cron_to_scheduler("0 3 1 * 1")


def test_cron_with_a_full_range_in_both_day_fields_is_still_refused() -> None:
    # `1-31` is not `*` to cron: it ORs the two fields, so this runs every day, not on Mondays.
    with pytest.raises(ValueError, match="both day-of-month"):
        cron_to_scheduler("0 3 1-31 * 1")


@pytest.mark.parametrize(
    ("cron", "reason"),
    [
        ("0 3 * *", "not a 5-field cron expression"),
        ("0 24 * * *", "hour field has 24, which is out of range (hour is 0-23)"),
        ("60 3 * * *", "minute field has 60, which is out of range (minute is 0-59)"),
        ("0 3 0 * *", "day-of-month field has 0, which is out of range (day-of-month is 1-31)"),
        ("0 3 * 13 *", "month field has 13, which is out of range (month is 1-12 or JAN-DEC)"),
        ("0 3 * * 8", "day-of-week field has 8, which is out of range (day-of-week is 0-7 or SUN-SAT)"),
        ("0 3 * * fri-mon", "runs backwards"),
        ("*/0 3 * * *", "step '0'"),
        ("0 3 L * *", "the day-of-month field has 'L', which is not a number"),
    ],
)
def test_invalid_cron_names_the_field_and_its_range(cron: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        cron_to_scheduler(cron)
    assert reason in str(raised.value)

CRON_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

CRON_WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@pytest.mark.parametrize("month", CRON_MONTHS)
def test_each_month_name_is_its_number(month: str) -> None:
    # A misnumbered month runs the job in the wrong month, with no error anywhere.
    assert cron_to_scheduler(f"0 0 1 {month} *") == f"cron(0 0 1 {CRON_MONTHS.index(month) + 1} ? *)"


@pytest.mark.parametrize("day", range(7))
def test_each_weekday_number_and_name_is_the_same_scheduler_day(day: int) -> None:
    # cron numbers Sunday 0, Scheduler 1: one off, and the job runs a day early or late.
    expected = f"cron(0 0 ? * {CRON_WEEKDAYS[day]} *)"
    assert cron_to_scheduler(f"0 0 * * {day}") == expected
    assert cron_to_scheduler(f"0 0 * * {CRON_WEEKDAYS[day].lower()}") == expected


@pytest.mark.parametrize(("cron", "scheduler"), [("0 0 * * 0-6", "cron(0 0 ? * * *)"), ("0 0 * * 1-7", "cron(0 0 ? * * *)"),
                                                 ("0 9-9 * * *", "cron(0 9 * * ? *)"), ("59 23 31 12 *", "cron(59 23 31 12 ? *)"),
                                                 ("0 0 * * 1-3", "cron(0 0 ? * MON-WED *)")])
def test_cron_edges_translate_exactly(cron: str, scheduler: str) -> None:
    # Every weekday is `*`; a one-value range and each field's highest value are valid.
    assert cron_to_scheduler(cron) == scheduler


def test_a_cron_of_the_wrong_shape_names_the_five_fields() -> None:
    with pytest.raises(ValueError) as raised:
        cron_to_scheduler("0 3 * *")
    assert str(raised.value) == "'0 3 * *' is not a 5-field cron expression (minute hour day-of-month month day-of-week)"


# --- The schedule's rhythm: the longest gap (model freshness), the busiest month (the budget) ---

HOUR, DAY = 3600, 86400
RHYTHMS = [
    # (cron, longest gap between two runs in seconds, most runs in one calendar month)
    ("0 3 * * *", 24 * HOUR, 31),
    ("0 2 * * 1-5", 72 * HOUR, 23),  # Friday 02:00 to Monday 02:00; a 31-day month has at most 23 weekdays
    ("0 0 1 * *", 31 * DAY, 1),  # the 1st of a 31-day month to the next 1st
    ("0 0 29 2 *", (4 * 365 + 1) * DAY, 1),  # 29 February, every 4 years
    ("*/15 * * * *", 15 * 60, 31 * 96),
    ("0 0 * * 0", 7 * DAY, 5),
    ("0 6,18 * * *", 12 * HOUR, 62),
    ("0 0 31 * *", 61 * DAY, 1),  # 31 March to 31 May (April has no 31st)
]


@pytest.mark.parametrize(("cron", "gap", "runs"), RHYTHMS, ids=[cron for cron, *_ in RHYTHMS])
def test_longest_gap_is_the_widest_space_between_two_runs(cron: str, gap: int, runs: int) -> None:
    assert longest_gap_seconds(cron) == gap


@pytest.mark.parametrize(("cron", "gap", "runs"), RHYTHMS, ids=[cron for cron, *_ in RHYTHMS])
def test_most_runs_in_a_month_counts_the_busiest_calendar_month(cron: str, gap: int, runs: int) -> None:
    assert most_runs_in_a_month(cron) == runs


@pytest.mark.parametrize("cron", ["0 3 * * *", "0 2 * * 1-5", "0 0 1 * *", "30 4 1 */3 *", "0 12 * jan,jul *", "0 0 * * 0"])
def test_most_runs_in_a_month_agrees_with_croniter(cron: str) -> None:
    # An independent parser as the oracle, over the same 8 years.
    runs: Counter[tuple[int, int]] = Counter()
    schedule = croniter(cron, datetime(2023, 12, 31, 23, 59))
    while (run := schedule.get_next(datetime)).year < 2032:
        runs[(run.year, run.month)] += 1
    assert most_runs_in_a_month(cron) == max(runs.values())


def test_the_rhythm_of_a_broken_cron_is_refused_as_its_translation_is() -> None:
    with pytest.raises(ValueError, match="both day-of-month"):
        most_runs_in_a_month("0 3 1 * 1")
    with pytest.raises(ValueError, match="hour field has 24"):
        longest_gap_seconds("0 24 * * *")


@pytest.mark.parametrize("cron", [cron for cron, _ in CRON_PAIRS])
def test_scheduler_cron_reads_back_as_the_same_schedule(cron: str) -> None:
    # make cost reads a Batch project's schedule from its Scheduler expression.
    back = scheduler_to_cron(cron_to_scheduler(cron))
    assert croniter.expand(back) == croniter.expand(cron)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("cron(0 2 ? * 2-6 *)", "'cron(0 2 ? * 2-6 *)' numbers its weekdays; cron_to_scheduler writes them as names"),
        ("cron(0 2 * * ? 2027)", "'cron(0 2 * * ? 2027)' is not a Scheduler cron(...) of 6 fields with year *"),
        ("rate(1 day)", "'rate(1 day)' is not a Scheduler cron(...) of 6 fields with year *"),
    ],
)
def test_a_scheduler_expression_it_cannot_read_exactly_is_refused(expression: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        scheduler_to_cron(expression)
    assert str(raised.value) == reason
