"""The ``portal`` configuration section: the brand colour's contrast rule and the embedding
origins, normalised to what a browser compares and safe to put in a CSP header."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.domain.config import config_errors, parse_config
from patron.domain.config.portal import (
    DEFAULT_BRAND,
    MIN_CONTRAST,
    PAGE_GREY,
    Portal,
    check_origin,
    contrast,
    mix,
)
from tests.support_example import EXAMPLE_CONFIG


def with_portal(**portal: Any) -> dict[str, Any]:
    return {**EXAMPLE_CONFIG, "portal": portal}


def test_absent_means_the_defaults_and_present_is_written_out() -> None:
    config = parse_config(EXAMPLE_CONFIG)
    assert "portal" not in config.to_document()
    assert config.portal_settings == Portal()
    assert config.portal_settings.brand_color == DEFAULT_BRAND
    written = parse_config(with_portal(embed_origins=["https://shop.example"])).to_document()
    assert written["portal"] == {
        "brand_color": DEFAULT_BRAND,
        "embed_origins": ["https://shop.example"],
    }
    assert parse_config(written).to_document() == written


@pytest.mark.parametrize(
    ("given_origin", "stored"),
    [
        ("https://shop.example", "https://shop.example"),
        ("https://shop.example/", "https://shop.example"),
        ("HTTPS://Shop.EXAMPLE:443", "https://shop.example"),
        ("https://shop.example:8443", "https://shop.example:8443"),
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("http://[::1]:3000", "http://[::1]:3000"),
        ("http://localhost:80", "http://localhost"),
    ],
)
def test_origins_are_normalised(given_origin: str, stored: str) -> None:
    assert check_origin(given_origin) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "shop.example",
        "//shop.example",
        "http://shop.example",
        "ftp://shop.example",
        "https://shop.example/account",
        "https://shop.example?x=1",
        "https://shop.example#top",
        "https://user:pass@shop.example",
        "https://*.shop.example",
        "*",
        "'self'",
        "https://shop.example 'unsafe-inline'",
        "https://shop.example;script-src",
        "https://shop.example,https://evil.example",
        "https://shop.example:99999",
        " https://shop.example",
        "https://bücher.example",
        "https://[2001:db8::1]",
    ],
)
def test_what_is_not_an_origin_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"origin|https"):
        check_origin(bad)


@given(st.text(max_size=60))
def test_an_accepted_origin_is_one_source_expression(text: str) -> None:
    """Whatever is typed, what is accepted cannot add a directive or a source to the CSP."""
    try:
        origin = check_origin(text)
    except ValueError:
        return
    assert origin.startswith(("https://", "http://"))
    assert not any(c in origin for c in " \t\r\n;,'\"*")
    assert origin.count("/") == 2


def test_colours_too_light_for_white_text_are_refused_with_their_contrast() -> None:
    errors = config_errors(with_portal(brand_color="#60a5fa"))
    assert [e.path for e in errors] == ["portal.brand_color"]
    assert "gives 2.3:1" in errors[0].message
    assert [e.path for e in config_errors(with_portal(brand_color="blue"))] == [
        "portal.brand_color"
    ]
    assert parse_config(with_portal(brand_color="#0F766E")).portal_settings.brand_color == (
        "#0f766e"
    )


@given(st.integers(0, 0xFFFFFF))
def test_every_accepted_colour_and_its_shades_pass_wcag_aa(value: int) -> None:
    color = f"#{value:06x}"
    if config_errors(with_portal(brand_color=color)):
        assert contrast(color, PAGE_GREY) < MIN_CONTRAST
        return
    portal = Portal(brand_color=color)
    assert contrast(color, "#ffffff") >= MIN_CONTRAST
    assert contrast(portal.brand_dark, "#ffffff") >= MIN_CONTRAST
    assert contrast(portal.brand_dark, portal.brand_soft) >= MIN_CONTRAST
    assert contrast("#111827", portal.brand_soft) >= MIN_CONTRAST


def test_mix() -> None:
    assert mix("#000000", "#ffffff", 0.5) == "#808080"
    assert mix("#1d4ed8", "#000000", 0.35) == "#13338c"


def test_too_many_origins_are_refused() -> None:
    many = [f"https://shop{n}.example" for n in range(21)]
    assert [e.path for e in config_errors(with_portal(embed_origins=many))] == [
        "portal.embed_origins"
    ]
