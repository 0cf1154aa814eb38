"""The docs page and the landing page work without internet: everything comes from the app."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def _references(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    # The inline script names the OpenAPI document it loads.
    parser.urls += re.findall(r"url: '([^']+)'", html)
    return parser.urls


def test_docs_page_and_every_asset_it_references_come_from_the_app(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?://", page.text), "the page must not reach out to the internet"
    urls = _references(page.text)
    kinds = {url.rsplit(".", 1)[-1] for url in urls}
    assert {"js", "css", "png", "json"} <= kinds, urls
    for url in urls:
        assert url.startswith("/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    assert "SwaggerUIBundle" in client.get("/static/swagger-ui/swagger-ui-bundle.js").text


def test_redoc_is_not_served_half_working(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404


def test_landing_page_answers_json_to_clients(client: TestClient) -> None:
    for accept in ("application/json", "*/*", None):
        headers = {"Accept": accept} if accept else {}
        response = client.get("/", headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert body["links"] == {
            "console": "/console/",
            "docs": "/docs",
            "openapi": "/openapi.json",
            "health": "/healthz",
        }
        for name, link in body["links"].items():
            if name != "console":  # served by the web app, not this API-only one (tests/console)
                assert client.get(link).status_code == 200, link


@pytest.mark.parametrize(
    "accept",
    [
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # a browser
        "text/html",
    ],
)
def test_landing_page_shows_html_to_browsers(client: TestClient, accept: str) -> None:
    response = client.get("/", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = [url for url in _references(response.text) if not url.startswith("/static/")]
    assert links == ["/console/", "/docs", "/openapi.json", "/healthz"]
    assert "API docs" in response.text
    assert "Admin console" in response.text
    for link in links[1:]:
        assert client.get(link).status_code == 200, link
