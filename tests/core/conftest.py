"""Shared fixtures for the numpy-only core tests.

No array library other than numpy is imported at module level: the ``xp`` fixture imports
``array_api_strict`` only when a test that uses it runs, so collection imports nothing extra.
A namespace that a test asks for but that cannot be imported fails that test; it never skips.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

#: Array namespaces the core is written against, by pytest id.
NAMESPACES = ["numpy", "array_api_strict"]
_INSTALL = {"numpy": "numpy", "array_api_strict": "array-api-strict"}


def import_namespace(name: str) -> ModuleType:
    """Import an array namespace by name; a missing one fails the test with the fix to apply."""
    try:
        return importlib.import_module(name)
    except ImportError as error:  # a missing backend fails the run, it never silently skips
        pytest.fail(f"this test needs {name}: pip install {_INSTALL[name]} ({error})")


@pytest.fixture(params=[pytest.param(name, id=name) for name in NAMESPACES])
def xp(request: pytest.FixtureRequest) -> ModuleType:
    """Each array namespace in turn (numpy, then array_api_strict)."""
    return import_namespace(request.param)


@pytest.fixture(scope="session")
def strict_xp() -> ModuleType:
    """The ``array_api_strict`` namespace alone."""
    return import_namespace("array_api_strict")
