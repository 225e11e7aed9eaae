"""Griffe extension for the API pages: a docstring section titled ``Example`` is read as numpydoc's ``Examples``,
so that its doctest lines are shown as code rather than parsed as Markdown."""

from __future__ import annotations

import re

from griffe import Extension

_SINGULAR = re.compile(r"^(\s*)Example\n(\s*)-------\n", re.M)


class ExamplesSection(Extension):
    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _SINGULAR.sub(r"\1Examples\n\2--------\n", obj.docstring.value)
