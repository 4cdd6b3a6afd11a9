"""Console output never fails on an encoding: a console keeps its own; a pipe or file keeps a code page that can
spell Chinese (936) and gets UTF-8 otherwise (an English Windows' 1252), so no word turns into "?"; a code page
that cannot hold a character replaces it instead of raising UnicodeEncodeError."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jzair_desktop.cli import output_encoding
from tests.storage.safety_helpers import REPO_ROOT, child_env


@pytest.mark.parametrize(
    ("encoding", "interactive", "expected"),
    [
        ("cp1252", False, "utf-8"),  # English Windows, output into a pipe or a file
        ("cp437", False, "utf-8"),
        ("ascii", False, "utf-8"),
        ("cp936", False, None),  # Chinese Windows: GBK, as every other program there writes
        ("gbk", False, None),
        ("utf-8", False, None),
        ("cp1252", True, None),  # a console: Python writes UTF-16 to it on Windows
        (None, False, "utf-8"),
        ("no-such-codec", False, "utf-8"),
    ],
)
def test_output_encoding_rule(encoding, interactive, expected, monkeypatch):
    monkeypatch.delenv("PYTHONIOENCODING", raising=False)
    assert output_encoding(encoding, interactive=interactive) == expected


def test_pythonioencoding_is_the_users_choice(monkeypatch):
    monkeypatch.setenv("PYTHONIOENCODING", "cp1252")
    assert output_encoding("cp1252", interactive=False) is None


# A child whose stdout/stderr are pipes in a given code page, as on a Windows with that ANSI code page.
CHILD = """
import io, sys
enc = sys.argv[1]
sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding=enc, errors="strict", line_buffering=True)
sys.stderr = io.TextIOWrapper(sys.stderr.buffer, encoding=enc, errors="strict", line_buffering=True)
from jzair_desktop.cli import main
code = main(sys.argv[2:])
sys.stdout.flush(); sys.stderr.flush()
sys.exit(code)
"""


def run_in_code_page(tmp_path, encoding: str, *argv: str) -> subprocess.CompletedProcess:
    env = child_env(JZAIR_DATA_DIR=str(tmp_path / "数据"), QT_QPA_PLATFORM="offscreen")
    env.pop("PYTHONIOENCODING", None)
    return subprocess.run([sys.executable, "-c", CHILD, encoding, *argv], capture_output=True, cwd=REPO_ROOT,
                          env=env, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize(("code_page", "reads_as"), [("cp1252", "utf-8"), ("cp936", "gbk")])
def test_cli_output_in_a_code_page_keeps_the_chinese(tmp_path, code_page, reads_as):
    db = tmp_path / "窗口 台账.sqlite3"
    made = run_in_code_page(tmp_path, code_page, "--db", str(db), "init")
    assert made.returncode == 0, made.stderr.decode(reads_as, "replace")
    out = made.stdout.decode(reads_as)  # strict: the bytes are what the rule says
    assert "窗口 台账.sqlite3" in out and "?" not in out.replace(str(db), "")

    # An error goes to stderr the same way.
    missing = run_in_code_page(tmp_path, code_page, "--db", str(tmp_path / "没有 这个.sqlite3"), "info")
    assert missing.returncode == 2
    assert "数据库文件不存在" in missing.stderr.decode(reads_as) and "没有 这个.sqlite3" in missing.stderr.decode(reads_as)


@pytest.mark.slow
def test_a_character_the_code_page_lacks_is_replaced_not_raised(tmp_path, monkeypatch):
    # cp936 cannot hold every character (here: a Korean syllable in a file name); the output says "?" there.
    db = tmp_path / "台账한.sqlite3"
    made = run_in_code_page(tmp_path, "cp936", "--db", str(db), "init")
    assert made.returncode == 0, made.stderr.decode("gbk", "replace")
    out = made.stdout.decode("gbk")
    assert "台账?.sqlite3" in out
    assert "UnicodeEncodeError" not in made.stderr.decode("gbk", "replace")
    assert os.path.exists(db)
