"""CSV exports never hand a spreadsheet a formula, and import back unchanged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontdesk.text import csv_cell, from_csv_cell, whole_number


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_shown_as_text(formula: str) -> None:
    assert csv_cell(formula) == "'" + formula


def test_other_values_stay_as_they_are() -> None:
    assert csv_cell("Laptop 14") == "Laptop 14"
    assert csv_cell(-5) == -5, "numbers are not text: spreadsheets read them as numbers"
    assert csv_cell("'quoted") == "''quoted", "so that importing it back keeps its quote"


@given(st.text())
def test_exports_import_back_unchanged(text: str) -> None:
    assert from_csv_cell(csv_cell(text)) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0),
        ("42", 42),
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),
        ("²", None),
        ("٣", None),
        ("-1", None),
        ("4 2", None),
        ("", None),
        ("0x10", None),
    ],
)
def test_whole_numbers_are_ascii_digits_a_database_can_hold(raw: str, expected: int | None) -> None:
    assert whole_number(raw) == expected
