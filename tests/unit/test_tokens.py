"""Signed link tokens: one token, one spelling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.domain.tokens import InvalidToken, sign, verify

SECRET = "a test secret that is long enough"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def token() -> str:
    return sign(SECRET, "rsvp", {"m": "x"}, datetime.now(UTC) + timedelta(days=1))


def other_spellings(genuine: str) -> list[str]:
    """Ways a lenient base64 decoder reads the same bytes: the last character's unused low bits
    set otherwise, padding, characters it skips."""
    body, mac = genuine.split(".")
    last = ALPHABET.index(mac[-1])
    unused = (1 << (6 - (len(mac) * 6) % 8)) - 1 if (len(mac) * 6) % 8 else 0
    siblings = [mac[:-1] + ALPHABET[(last & ~unused) | bits] for bits in range(unused + 1)]
    return [
        *(f"{body}.{m}" for m in siblings if m != mac),
        f"{body}.{mac}=",
        f"{body}.{mac[:10]}!{mac[10:]}",
        f"{body}.{mac[:10]}\n{mac[10:]}",
        f"{body}.{mac[:10]}\u0080{mac[10:]}",  # not even ASCII
    ]


def test_a_token_is_accepted_only_as_it_was_issued() -> None:
    genuine = token()
    assert verify(SECRET, "rsvp", genuine)["m"] == "x"
    spellings = other_spellings(genuine)
    assert len(spellings) >= 4  # a 32-byte MAC leaves 2 unused bits: 3 siblings, and 3 more
    for spelling in spellings:
        with pytest.raises(InvalidToken):
            verify(SECRET, "rsvp", spelling)


def test_a_token_for_one_purpose_or_past_its_time_is_refused() -> None:
    genuine = token()
    with pytest.raises(InvalidToken):
        verify(SECRET, "followup", genuine)
    old = sign(SECRET, "rsvp", {"m": "x"}, datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(InvalidToken, match="expired"):
        verify(SECRET, "rsvp", old)
