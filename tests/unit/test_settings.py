"""Settings: without EXSCHED_PUBLIC_URL, links point at the address a process actually serves."""

from __future__ import annotations

from scheduler.ops.config import Settings


def test_an_unset_public_url_follows_the_served_address() -> None:
    assert Settings(api_port=8042).public_url == "http://127.0.0.1:8042"
    served = Settings().serving("0.0.0.0", 9000)
    assert (served.public_url, served.api_host, served.api_port) == ("http://127.0.0.1:9000", "0.0.0.0", 9000)
    assert Settings(api_host="::1", api_port=5).public_url == "http://[::1]:5"


def test_a_public_url_that_is_set_is_kept_as_given() -> None:
    settings = Settings(public_url="https://sessions.example.org/")
    assert settings.public_url == "https://sessions.example.org"
    assert settings.serving("0.0.0.0", 9000).public_url == "https://sessions.example.org"
    assert not settings.public_url_derived
