"""Text from outside (a login name typed by anyone, a name read back from the audit trail) made safe to
store and to print: terminal escape sequences and other control or format characters removed, the length
limited."""

from __future__ import annotations

import re
import unicodedata

# ESC [ … final byte (CSI), ESC ] … BEL/ST (OSC), and any other two-byte ESC sequence.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?|\x9b[0-?]*[ -/]*[@-~]")
ELLIPSIS = "…"


def printable(text: object, limit: int | None = None) -> str:
    """`text` without escape sequences or control/format/unassigned characters (a tab and line breaks become
    spaces), at most `limit` characters (the last one an ellipsis when cut)."""
    s = _ESCAPES.sub("", str(text))
    out = []
    for ch in s:
        cat = unicodedata.category(ch)
        if ch in "\t\r\n":
            out.append(" ")
        elif cat[0] == "C" or cat in ("Zl", "Zp"):
            continue
        else:
            out.append(ch)
    s = "".join(out)
    if limit is not None and len(s) > limit:
        s = s[: max(limit - 1, 0)] + ELLIPSIS
    return s
