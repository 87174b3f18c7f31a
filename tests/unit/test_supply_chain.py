"""The virtualenv's packaging tools are pinned past their known vulnerabilities."""

from __future__ import annotations

from importlib.metadata import version


def _release(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version(name).split(".")[:3] if part.isdigit())


def test_setuptools_is_past_its_known_cves():
    # CVE-2022-40897 (ReDoS, fixed in 65.5.1), CVE-2024-6345 (code injection through
    # package_index, fixed in 70.0.0), CVE-2025-47273 (path traversal in PackageIndex,
    # fixed in 78.1.1). `python -m venv` on Python 3.11 brings 65.5.0.
    assert _release("setuptools") >= (78, 1, 1)


def test_pip_is_past_its_known_cves():
    # CVE-2023-5752 (Mercurial config injection, fixed in 23.3) and CVE-2025-8869
    # (tar symlinks escaping the target, fixed in 25.3).
    assert _release("pip") >= (25, 3)
