"""Check characters of 身份证号 (GB 11643), VIN (ISO 3779 / GB 16735) and 统一社会信用代码 (GB 32100).

What a single changed character does, proved from the arithmetic before it is asserted here:
- 身份证号, ISO 7064 MOD 11-2: the weights 2^(17-i) mod 11 are never 0 mod 11 and a digit changes by
  1…9, so the weighted sum changes by a non-zero amount mod 11 (11 is prime): every single substitution
  in the first 17 digits is detected, and the check character is a function of them.
- VIN: the transliteration maps several characters to one value (1/A/J, 2/B/K/S, …, 9/R/Z), so
  swapping those is NOT detected. A change of value (by 1…9) at a position with weight 2…10 changes
  the sum by a non-zero amount mod 11 and is detected. Position 9 (weight 0) is the check digit itself.
- USCC: 31 symbols with values 0…30, weights 3^i mod 31 (never 0), mod 31 prime: every substitution
  within the alphabet is detected.
"""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from jzair_desktop.domain import checkdigits as cd

DIGITS = "0123456789"
ID_CHARS = DIGITS + "X"
VIN_CHARS = "".join(sorted(cd.VIN_ALPHABET))
ANY_CHARS = string.ascii_uppercase + DIGITS


def with_id_check(first17: str) -> str:
    return first17 + cd.id_check_char(first17)


def with_vin_check(vin: str) -> str:
    return vin[:8] + cd.vin_check_char(vin) + vin[9:]


def with_uscc_check(first17: str) -> str:
    return first17 + cd.uscc_check_char(first17)


id_first17 = st.text(DIGITS, min_size=17, max_size=17)
vin_drafts = st.text(VIN_CHARS, min_size=17, max_size=17)
uscc_first17 = st.text(cd.USCC_ALPHABET, min_size=17, max_size=17)


# --- known numbers --------------------------------------------------------------------------------


def test_known_id_numbers():
    assert cd.id_number_valid("11010519491231002X")  # the example of GB 11643-1999
    assert cd.id_number_valid("440524188001010014")
    assert cd.id_check_char("11010519491231002") == "X"
    assert not cd.id_number_valid("110105194912310021")
    assert not cd.id_number_valid("11010519491231002x")  # lower-case x is not the check character
    assert not cd.id_number_valid("11010519491231002")  # 17 characters


def test_known_vins():
    assert cd.vin_valid("1M8GDM9AXKP042788")  # the textbook example, check digit X
    assert cd.vin_valid("1HGCM82633A004352")
    assert cd.vin_valid("11111111111111111")
    assert cd.vin_check_char("1M8GDM9A0KP042788") == "X"
    assert not cd.vin_valid("1M8GDM9A1KP042788")
    assert not cd.vin_valid("1M8GDM9AXKP04278")  # 16 characters
    assert not cd.vin_valid("1M8GDM9AXKP04278O")  # O is not allowed


def test_known_credit_codes():
    assert cd.uscc_valid("91350100M000100Y43")  # the example of GB 32100-2015
    assert cd.uscc_check_char("91350100M000100Y4") == "3"
    assert not cd.uscc_valid("91350100M000100Y44")
    assert not cd.uscc_valid("91350100M000100Y4")  # 17 characters
    assert not cd.uscc_valid("91350100M000100I43")  # I is not in the alphabet


# --- generated valid numbers pass -----------------------------------------------------------------


@given(id_first17)
def test_generated_id_numbers_are_valid(first17):
    assert cd.id_number_valid(with_id_check(first17))


@given(vin_drafts)
def test_generated_vins_are_valid(draft):
    assert cd.vin_valid(with_vin_check(draft))


@given(uscc_first17)
def test_generated_credit_codes_are_valid(first17):
    assert cd.uscc_valid(with_uscc_check(first17))


# --- one changed character ------------------------------------------------------------------------


@given(id_first17, st.integers(0, 17), st.sampled_from(ANY_CHARS))
def test_any_single_change_of_an_id_number_is_detected(first17, pos, new):
    valid = with_id_check(first17)
    if valid[pos] == new:
        new = ID_CHARS[(ID_CHARS.index(valid[pos]) + 1) % len(ID_CHARS)] if valid[pos] in ID_CHARS else "0"
    changed = valid[:pos] + new + valid[pos + 1:]
    assert changed != valid
    assert not cd.id_number_valid(changed)


@given(vin_drafts, st.integers(0, 16), st.sampled_from(ANY_CHARS))
def test_a_vin_change_is_detected_exactly_when_the_value_changes(draft, pos, new):
    valid = with_vin_check(draft)
    if new == valid[pos]:
        return
    changed = valid[:pos] + new + valid[pos + 1:]
    if new not in cd.VIN_ALPHABET:  # I, O, Q
        assert not cd.vin_valid(changed)
    elif pos == 8:  # the check digit itself: any other character is wrong
        assert not cd.vin_valid(changed)
    else:
        same_value = cd.VIN_VALUES[new] == cd.VIN_VALUES[valid[pos]]
        assert cd.vin_valid(changed) is same_value


def test_vin_transliteration_collisions_are_not_detected():
    """The limit of the VIN check digit: A and J (and 1) have the same value."""
    valid = "1M8GDM9AXKP042788"
    assert cd.vin_valid(valid.replace("A", "J"))
    assert cd.vin_valid(valid.replace("A", "1"))


@given(uscc_first17, st.integers(0, 17), st.sampled_from(ANY_CHARS))
def test_any_single_change_of_a_credit_code_is_detected(first17, pos, new):
    valid = with_uscc_check(first17)
    if new == valid[pos]:
        return
    changed = valid[:pos] + new + valid[pos + 1:]
    assert not cd.uscc_valid(changed)


@given(id_first17, st.integers(0, 16))
def test_swapping_two_adjacent_different_id_digits_is_detected(first17, pos):
    """MOD 11-2 also catches adjacent transpositions (neighbouring weights differ mod 11)."""
    valid = with_id_check(first17)
    if valid[pos] == valid[pos + 1] or pos + 1 == 17:
        return
    swapped = valid[:pos] + valid[pos + 1] + valid[pos] + valid[pos + 2:]
    assert not cd.id_number_valid(swapped)


def test_check_characters_are_in_their_alphabets():
    assert set(cd.ID_CHECK) <= set(ID_CHARS)
    assert len(cd.USCC_ALPHABET) == 31 and not set("IOZSV") & set(cd.USCC_ALPHABET)
    assert not {"I", "O", "Q"} & cd.VIN_ALPHABET
    assert cd.VIN_WEIGHTS[8] == 0


@given(st.text(min_size=17, max_size=17))
def test_id_check_char_fast_path_agrees_with_the_definition(first17):
    """The byte-arithmetic path for ASCII digits gives what the weighted digit sum gives."""
    try:
        slow = cd.ID_CHECK[sum(int(c) * w for c, w in zip(first17, cd.ID_WEIGHTS, strict=True)) % 11]
    except ValueError:
        slow = None
    try:
        fast = cd.id_check_char(first17)
    except ValueError:
        fast = None
    assert fast == slow
