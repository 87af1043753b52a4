"""Importing the core costs numpy only: no framework lands in ``sys.modules``.

Each check runs in a fresh interpreter (the test process itself may have imported anything),
with ``PYTHONPATH`` pointing at the repository root so the checkout under test is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("torch", "tensorflow", "keras", "paddle", "mxnet", "jax", "cupy", "scipy")

_PROBE = """
import json, sys
import {module}
loaded = sorted({{name.split(".")[0] for name in sys.modules}})
print(json.dumps({{"file": {top}.__file__, "loaded": loaded}}))
"""


@pytest.mark.parametrize(
    "module",
    [
        pytest.param("oneinit", id="oneinit"),
        pytest.param("oneinit.core", id="oneinit.core"),
        pytest.param("oneinit.core.fans", id="oneinit.core.fans"),
        pytest.param("oneinit.core.schemes", id="oneinit.core.schemes"),
        pytest.param("oneinit.core.random", id="oneinit.core.random"),
        pytest.param("oneinit.core.structured", id="oneinit.core.structured"),
        pytest.param("oneinit.core.gains", id="oneinit.core.gains"),
    ],
)
def test_import_loads_no_framework(module: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module, top="sys.modules['oneinit']")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(report["file"]).resolve().is_relative_to(REPO_ROOT)
    assert "numpy" in report["loaded"]
    assert sorted(set(FRAMEWORKS) & set(report["loaded"])) == []
