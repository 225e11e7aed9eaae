"""Where doctest finds a public class's examples (``make test`` runs ``pytest --doctest-modules`` over
tools/genosynth; tests/conftest.py imports this module, so the rule holds before the library is collected).

The public classes report ``__module__ == "genosynth"`` (tools/genosynth/__init__.py), so that tracebacks and reprs
name ``genosynth.InputError``; doctest would then look for their examples in ``genosynth/__init__.py`` and run them
in its namespace, skipping their methods. Here a class's examples belong to the module that defines it (whose
functions' globals are that module's), and run in that module's namespace, methods included."""

from __future__ import annotations

import doctest
import inspect
import re

_from_module = doctest.DocTestFinder._from_module


def _defined_in(module, cls: type) -> bool:
    functions = [member for member in vars(cls).values() if hasattr(member, "__globals__")]
    if functions:
        return any(member.__globals__ is module.__dict__ for member in functions)
    try:  # a class without functions of its own (an exception): the module whose source defines it
        return bool(re.search(rf"^class {cls.__name__}\b", inspect.getsource(module), re.M))
    except (OSError, TypeError):
        return False


def _from_module_of_definition(self, module, object) -> bool:
    if inspect.isclass(object) and object.__module__ == "genosynth" and module is not None:
        return module.__name__ != "genosynth" and _defined_in(module, object)
    return _from_module(self, module, object)


doctest.DocTestFinder._from_module = _from_module_of_definition
