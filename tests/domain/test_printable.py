"""Names cleaned before they are stored or printed (issue 16 finding 10)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jzair_desktop.domain.printable import printable


def test_escape_sequences_and_controls_are_removed():
    assert printable("\x1b[2J\x1b[31m管理员\x1b[0m") == "管理员"
    assert printable("a\x1b]0;owned\x07b") == "ab"
    assert printable("王\x00主\u202e任\x7f") == "王主任"
    assert printable("x" * 100_000, 64) == "x" * 63 + "…"


@given(st.text(), st.integers(min_value=1, max_value=80))
def test_printable_output_has_no_control_characters_and_respects_the_limit(text, limit):
    out = printable(text, limit)
    assert len(out) <= limit
    assert "\x1b" not in out and not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in out)
    assert printable(out, limit) == out
