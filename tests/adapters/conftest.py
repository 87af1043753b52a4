"""Shared fixtures for the adapter tests.

No framework is imported at module level: each fixture imports its framework when a test that
uses it runs, so collecting ``tests/adapters`` imports nothing. A framework that a test asks for
but that cannot be imported fails that test with the install line; it never silently skips. A
CUDA device is different: tests marked ``gpu`` run where one is present and are skipped, with
a reason, where none is.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

#: What to install for each framework (the project machines' pins live in noxfile.py).
INSTALL = {
    "torch": 'pip install "oneinit[torch]" (torch==2.13.0, the CPU build, on project machines)',
    "keras": 'pip install "oneinit[keras]"',
    "tensorflow": 'pip install "oneinit[tensorflow]"',
    "paddle": 'pip install "oneinit[paddle]"',
    "mxnet": 'pip install "oneinit[mxnet]"',
}


def import_backend(name: str) -> ModuleType:
    """Import a framework by name; a missing one fails the test with the line that fixes it."""
    try:
        return importlib.import_module(name)
    except ImportError as error:  # a missing backend fails the run, it never silently skips
        pytest.fail(f"this test needs {name}: {INSTALL.get(name, name)} ({error})")


@pytest.fixture(scope="session")
def torch() -> ModuleType:
    """The ``torch`` module."""
    return import_backend("torch")


@pytest.fixture(scope="session")
def oit(torch: ModuleType) -> ModuleType:
    """The PyTorch adapter, ``oneinit.adapters.torch``."""
    return importlib.import_module("oneinit.adapters.torch")


def _cuda_available(torch: ModuleType) -> bool:
    return bool(torch.cuda.is_available())


#: Devices a device-parametrized test runs on; "cuda" is marked gpu.
DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param("cuda", id="cuda", marks=pytest.mark.gpu),
]


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest, torch: ModuleType) -> str:
    """Each device in turn: "cpu", then "cuda" where a CUDA device is present."""
    name = str(request.param)
    if name == "cuda" and not _cuda_available(torch):
        pytest.skip("needs a CUDA device")
    return name


@pytest.fixture
def cuda(torch: ModuleType) -> str:
    """The CUDA device; the test is skipped without one."""
    if not _cuda_available(torch):
        pytest.skip("needs a CUDA device")
    return "cuda"
