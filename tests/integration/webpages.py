"""Reading the HTML pages in integration tests: a tiny DOM, the CSRF token, the sign-in URL.

The standard library's HTMLParser is enough for what the tests look at: links, forms,
classes and the text of a section.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from flask import Flask, url_for

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parts: list[str] = field(default_factory=list)
    children: list[Element] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The text inside, whitespace collapsed (and added between elements)."""
        return " ".join(" ".join(self.parts).split())

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def find_all(self, tag: str | None = None, class_: str | None = None, **attrs: str):
        """Descendants with this tag, class and exact attribute values (``_`` for ``-``,
        and ``for_`` for ``for``)."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        found = []
        for child in self.children:
            if (
                (tag is None or child.tag == tag)
                and (class_ is None or class_ in child.classes)
                and all(child.attrs.get(k) == v for k, v in wanted.items())
            ):
                found.append(child)
            found.extend(child.find_all(tag, class_, **attrs))
        return found

    def find(self, tag: str | None = None, class_: str | None = None, **attrs: str):
        found = self.find_all(tag, class_, **attrs)
        return found[0] if found else None

    def one(self, tag: str | None = None, class_: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, class_, **attrs)
        assert len(found) == 1, f"expected one <{tag} {class_} {attrs}>, found {len(found)}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.open[-1].children.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag):
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data):
        for element in self.open:
            element.parts.append(data)


def parse(response_or_html) -> Element:
    html = response_or_html
    if not isinstance(html, str):
        html = response_or_html.get_data(as_text=True)
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def text_of(response) -> str:
    return parse(response).text


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def path_of(url: str) -> str:
    return urlsplit(url).path


def csrf_token(response) -> str:
    """The token of the first form on the page, else the one htmx sends in a header."""
    page = parse(response)
    field_ = page.find("input", name="csrf_token")
    if field_ is not None:
        return field_.attrs["value"]
    body = page.one("body")
    return json.loads(body.attrs["hx-headers:inherited"])["X-CSRFToken"]


def form_fields(form: Element) -> dict[str, str]:
    return {i.attrs["name"]: i.attrs.get("value", "") for i in form.find_all("input")}


def sign_in_url(app: Flask) -> str:
    with app.test_request_context():
        return url_for("account.sign_in")
