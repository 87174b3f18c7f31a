"""pyproject.toml lists every package of the app: one left out is missing from an
installed Kairos (a wheel), though it works from the checkout."""

from __future__ import annotations

import tomllib

from config import ROOT

TOP = ("commands", "deploy", "migrations", "models", "scheduling", "services", "views")


def test_every_package_is_listed():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in TOP
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found - listed == set()
