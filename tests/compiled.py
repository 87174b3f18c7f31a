"""Compiling once per test process what every test's new app compiled again.

Each test gets an app of its own (``create_app`` in tests/conftest.py's ``app``), and
each new app compiled its templates and the URL builders of its ~120 routes anew: about
half of the time of a typical integration test. What they compile to depends only on the
template's source and the route's rule, so the second app on reuses the first's code.
The apps themselves stay separate: nothing else is shared.
"""

from __future__ import annotations

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from werkzeug.routing import Rule


class TemplateCode(BytecodeCache):
    """Jinja's bytecode cache, in memory. A bucket is keyed by the template's name and
    file and checked against a checksum of its source, so an edited template compiles
    again."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self.code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = TemplateCode()


def reuse_url_builders() -> None:
    """Werkzeug compiles two builder functions per rule (Python source made from the
    rule, through ``compile``). Their code follows from the rule's text, its parsed
    parts and its defaults; the rule itself is an argument when the builder runs. So one
    builder per such key serves every app's copy of the rule."""
    compile_builder = Rule._compile_builder
    builders: dict[tuple, object] = {}

    def cached(self: Rule, append_unknown: bool = True):
        defaults = sorted((str(k), repr(v)) for k, v in (self.defaults or {}).items())
        key = (self.rule, append_unknown, tuple(self._trace), tuple(defaults))
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = cached
