"""Check characters of the identifiers the ledgers carry.

- 居民身份证号码: GB 11643-1999, ISO 7064 MOD 11-2 (last character 0-9 or X).
- 车辆识别代号 VIN: ISO 3779 / GB 16735, check digit in position 9.
- 统一社会信用代码: GB 32100-2015, mod 31 over a 31-character alphabet.
"""

from __future__ import annotations

import operator

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


_ID_ASCII_OFFSET = ord("0") * sum(ID_WEIGHTS)


def id_check_char(first17: str) -> str:
    if len(first17) == 17 and first17.isascii() and first17.isdigit():
        # The common case, kept fast (the Excel import calls this for every row): the bytes of ASCII
        # digits weighted, less the weighted "0"s.
        total = sum(map(operator.mul, first17.encode("ascii"), ID_WEIGHTS)) - _ID_ASCII_OFFSET
    else:
        total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def id_number_valid(value: str) -> bool:
    return (
        len(value) == 18
        and value[:17].isdigit()
        and value[:17].isascii()
        and (value[17].isdigit() or value[17] == "X")
        and id_check_char(value[:17]) == value[17]
    )


VIN_VALUES = {
    **{str(d): d for d in range(10)},
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}  # fmt: skip
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_ALPHABET = frozenset(VIN_VALUES)


def vin_check_char(vin17: str) -> str:
    """The check character for a 17-character VIN (position 9 is ignored in the sum)."""
    total = sum(VIN_VALUES[c] * w for c, w in zip(vin17, VIN_WEIGHTS, strict=True))
    rem = total % 11
    return "X" if rem == 10 else str(rem)


def vin_valid(value: str) -> bool:
    return len(value) == 17 and set(value) <= VIN_ALPHABET and vin_check_char(value) == value[8]


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_valid(value: str) -> bool:
    return (
        len(value) == 18
        and all(c in USCC_ALPHABET for c in value)
        and uscc_check_char(value[:17]) == value[17]
    )
