"""The password rule: one place for every path that sets a password (set-up, 新增用户, change password, CLI).

A password has at least 8 characters, no spaces at either end, is not all digits, is not the account name
(in any case, nor the name with digits added) and is not one of the common weak passwords bundled in
resources/security/weak_passwords.txt.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from jzair_desktop import paths
from jzair_desktop.errors import JzairError

MIN_LENGTH = 8
MAX_LENGTH = 128


class WeakPassword(JzairError):
    """The password does not meet the rule (the message says which part)."""


def fold(text: str) -> str:
    """Case and width folded (Ａｄｍｉｎ, ADMIN and admin are the same word to the rule)."""
    # Normalized again after folding: changing case can decompose a character (ῒ upper-cases to Ϊ + ̀), so the
    # same word written composed or decomposed folds to one string.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).upper().casefold())


@lru_cache(maxsize=1)
def weak_passwords() -> frozenset[str]:
    """The bundled list of common weak passwords, lower-cased."""
    file = paths.resources_dir() / "security" / "weak_passwords.txt"
    lines = file.read_text(encoding="utf-8").splitlines()
    return frozenset(fold(line.strip()) for line in lines if line.strip() and not line.startswith("#"))


def problem(name: str, password: str) -> str | None:
    """Why `password` may not be used for the account `name` (a Chinese sentence), or None when it may."""
    name = (name or "").strip()
    if len(password) < MIN_LENGTH:
        return f"密码太短：至少需要 {MIN_LENGTH} 个字符。"
    if len(password) > MAX_LENGTH:
        return f"密码太长：最多 {MAX_LENGTH} 个字符。"
    if password.strip() != password:
        return "密码的开头和结尾不能是空格。"
    if password.isdigit():
        return "密码不能全是数字，请加入字母或符号。"
    lowered, folded_name = fold(password), fold(name)
    if name and (lowered == folded_name or lowered.rstrip("0123456789") == folded_name
                 or lowered == folded_name[::-1]):
        return "密码不能与用户名相同（也不能只是用户名加数字或倒写）。"
    if lowered in weak_passwords():
        return "这个密码太常见，很容易被猜到，请换一个。"
    return None


def check(name: str, password: str) -> None:
    """Raise WeakPassword unless `password` meets the rule for the account `name`."""
    reason = problem(name, password)
    if reason is not None:
        raise WeakPassword(reason)


@dataclass(frozen=True, slots=True)
class Strength:
    score: int  # 0 (refused) … 4 (strong)
    label: str  # what the set-up wizard and the account dialogs show
    reason: str | None  # why it is refused (score 0)


def strength(name: str, password: str) -> Strength:
    """A strength indicator for the password fields: refused, or 弱/中/强/很强 by length and character kinds."""
    if not password:
        return Strength(0, "", None)
    reason = problem(name, password)
    if reason is not None:
        return Strength(0, "不可用", reason)
    kinds = sum((
        any(ch.islower() for ch in password),
        any(ch.isupper() for ch in password),
        any(ch.isdigit() for ch in password),
        any(not ch.isalnum() for ch in password),
    ))
    score = 1 + (len(password) >= 10) + (kinds >= 3) + (len(password) >= 14 and kinds >= 3)
    return Strength(min(score, 4), ("", "弱", "中", "强", "很强")[min(score, 4)], None)
