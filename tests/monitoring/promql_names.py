"""The metric names a PromQL expression reads, for checking them against real scrapes.

A small lexer, not a parser: promtool checks the syntax. What it must get right is which
identifiers are metrics. Not metrics: functions and aggregations (a name before `(`, or before
`by`/`without`), keywords (`by`, `on`, `bool`, `and`, `offset`, ...), label names (in `{...}`
matchers and in the label lists of `by`, `without`, `on`, `ignoring`, `group_left`,
`group_right`), strings, numbers and durations (`5m`, `1h30m`, `[5m:1m]`), and Grafana's
variables (`$namespace`, `${project}`). A `{__name__="x"}` matcher names the metric `x`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
)
LABEL_LIST_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
KEYWORDS = LABEL_LIST_KEYWORDS | {"bool", "and", "or", "unless", "atan2", "offset"}
NUMBER_WORDS = frozenset({"inf", "nan"})

_TOKEN = re.compile(
    r"""
      (?P<space>\s+|\#[^\n]*)
    | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
    | (?P<range>\[[^\]]*\])
    | (?P<variable>\$\{[^}]*\}|\$\w+)
    | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?:(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)?)
    | (?P<identifier>[a-zA-Z_:][a-zA-Z0-9_:]*)
    | (?P<operator>=~|!~|==|!=|<=|>=|[-+*/%^<>=,(){}@])
    """,
    re.VERBOSE,
)


def tokens(expr: str) -> Iterator[tuple[str, str]]:
    """(kind, text) for each token but spaces and comments; an unknown character is an error."""
    position = 0
    while position < len(expr):
        match = _TOKEN.match(expr, position)
        if match is None:
            raise ValueError(f"unexpected {expr[position]!r} at {position} in {expr!r}")
        assert match.lastgroup is not None
        if match.lastgroup != "space":
            yield match.lastgroup, match.group()
        position = match.end()


def metric_names(expr: str) -> list[str]:
    """The metric names `expr` reads, in order of first appearance."""
    found: list[str] = []
    toks = list(tokens(expr))
    index = 0
    while index < len(toks):
        kind, text = toks[index]
        following = toks[index + 1][1] if index + 1 < len(toks) else None
        if text == "{":
            index, name = _matchers(toks, index)
            if name is not None and name not in found:
                found.append(name)
            continue
        if kind == "identifier" and text in LABEL_LIST_KEYWORDS:
            # group_left's label list is optional: without one, what follows is an operand.
            index = _skip_parens(toks, index + 1) if following == "(" else index + 1
            continue
        if kind == "identifier" and not _is_not_a_metric(text, following) and text not in found:
            found.append(text)
        index += 1
    return found


def _is_not_a_metric(text: str, following: str | None) -> bool:
    lowered = text.lower()
    return (
        text in KEYWORDS
        or lowered in NUMBER_WORDS
        or following == "("  # a function or an aggregation's call
        or (text in AGGREGATIONS and following in ("by", "without"))
    )


def _skip_parens(toks: list[tuple[str, str]], index: int) -> int:
    """Past the parenthesised label list that starts at `index`."""
    assert toks[index][1] == "(", toks[index:]
    end = next(i for i in range(index, len(toks)) if toks[i][1] == ")")
    return end + 1


def _matchers(toks: list[tuple[str, str]], index: int) -> tuple[int, str | None]:
    """Past the `{...}` at `index`, and the metric a `__name__="x"` matcher names, if any."""
    end = next(i for i in range(index, len(toks)) if toks[i][1] == "}")
    inside = toks[index + 1 : end]
    name = None
    for at in range(len(inside) - 2):
        (_, label), (_, op), (kind, value) = inside[at : at + 3]
        if label == "__name__" and op == "=" and kind == "string":
            name = value[1:-1]
    return end + 1, name
