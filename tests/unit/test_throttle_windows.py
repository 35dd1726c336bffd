"""Every attempt window is at most ``throttle.LONGEST``: whoever forgets ended counts (each
sign-in and join form does) must not forget a count whose window is still running."""

from __future__ import annotations

import importlib

import pytest

from scheduler.domain import throttle

MODULES = (
    "scheduler.domain.staff",
    "scheduler.web.public.member_signin",
    "scheduler.web.public.join",
    "scheduler.web.public.me",
)


@pytest.mark.parametrize("name", MODULES)
def test_no_window_is_longer_than_the_longest(name: str) -> None:
    module = importlib.import_module(name)
    windows = [value for value in vars(module).values() if isinstance(value, throttle.Window)]
    assert windows, f"{name} has no attempt windows: the list above is stale"
    assert all(w.length <= throttle.LONGEST for w in windows), windows
