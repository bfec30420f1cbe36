"""The READMEs render as their authors meant: no table cut in two by a blank line."""

from __future__ import annotations

import pytest

from offline.engine import ROOT


def tables_cut_by_a_blank_line(text: str) -> list[int]:
    """Line numbers of table rows that follow a table row across blank lines.

    A blank line ends a Markdown table: the rows after it render as a paragraph of pipes.
    Code blocks are skipped (a shell session may print a table of its own).
    """
    cut: list[int] = []
    in_code = False
    last_row, blank_since = -1, False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            last_row, blank_since = -1, False
            continue
        if in_code:
            continue
        if not line.strip():
            blank_since = last_row > 0
            continue
        if line.lstrip().startswith("|"):
            if blank_since:
                cut.append(number)
            last_row, blank_since = number, False
        else:
            last_row, blank_since = -1, False
    return cut


@pytest.mark.parametrize("readme", ["README.md", "images/README.md"])
def test_no_markdown_table_has_a_blank_line_inside(readme: str) -> None:
    assert tables_cut_by_a_blank_line((ROOT / readme).read_text()) == []


def test_the_check_finds_a_table_cut_in_two() -> None:
    text = "| a | b |\n| --- | --- |\n| 1 | 2 |\n\n| 3 | 4 |\n\ntext\n\n| c |\n| --- |\n"
    assert tables_cut_by_a_blank_line(text) == [5]

