"""nox sessions: every framework in its own virtual environment and process.

``nox`` with no arguments runs what CI runs. Machine facts live in ``MACHINE`` below, each
overridable by an environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True
nox.options.sessions = [
    "lint",
    "core",
    "core-numpy1",
    "torch",
    "keras",
    "paddle",
    "mxnet",
    "explain",
    "parity",
]

# Facts about the machines this project runs on, in one place.
MACHINE = {
    # Interpreter for every session (None: the one running nox). Python 3.11 here.
    "python": os.environ.get("ONEINIT_PYTHON") or None,
    # On the project machines a CPU build of torch 2.13.0 lies in the local wheel folder pip
    # already searches; an unpinned or newer torch would pull a CUDA build of several GB.
    "torch": os.environ.get("ONEINIT_TORCH", "torch==2.13.0"),
    # MXNet 1.9.1 needs numpy < 1.24; 1.23.5 is the newest that installs on Python 3.11.
    "numpy1": os.environ.get("ONEINIT_NUMPY1", "numpy==1.23.5"),
    # The CPU build of Paddle (a GPU build cannot be installed here).
    "paddle": os.environ.get("ONEINIT_PADDLE", "paddlepaddle==3.3.1"),
    "keras": os.environ.get("ONEINIT_KERAS", "keras==3.15.1"),
    "tensorflow": os.environ.get("ONEINIT_TENSORFLOW", "tensorflow-cpu==2.21.0"),
    "jax": os.environ.get("ONEINIT_JAX", "jax==0.10.2"),
}
# TensorFlow's and the Keras torch backend's __array__ warn under numpy 2 on every conversion.
KERAS_ARRAY_WARNING = (
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)
KERAS_BACKENDS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
PYTHON = MACHINE["python"]
# What each framework's venv holds: its adapter session installs it, and the parity session
# reuses that venv (or builds it) to run the framework's worker.
FRAMEWORK_VENVS = {
    "torch": ("torch", ["-e", ".[test]", MACHINE["torch"]], {}),
    "keras": (
        "keras-backend-tensorflow",
        ["-e", ".[test]", MACHINE["keras"], MACHINE["tensorflow"]],
        {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"},
    ),
    "paddle": ("paddle", [MACHINE["paddle"], "-e", ".[test]"], {}),
    "mxnet": ("mxnet", ["-e", ".[mxnet,test]", MACHINE["numpy1"]], {}),
}
# Docs whose examples need no framework (each adapter's page is doctested in its own session).
CORE_DOCS = [
    "docs/index.md",
    "docs/schemes.md",
    "docs/fans.md",
    "docs/generator.md",
    "docs/gains.md",
]


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff on everything; mypy --strict on the core."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("mypy", "oneinit/core", "oneinit/__init__.py")


@nox.session(python=PYTHON)
def core(session: nox.Session) -> None:
    """Core tests and doctests on the newest numpy."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests/core", *session.posargs)
    session.run(
        "pytest",
        "--doctest-modules",
        "oneinit/__init__.py",
        "oneinit/core",
        "--doctest-glob=*.md",
        "README.md",
        *CORE_DOCS,
        "-p",
        "no:cacheprovider",
    )


@nox.session(name="core-numpy1", python=PYTHON)
def core_numpy1(session: nox.Session) -> None:
    """Core tests on numpy 1.23.5, the numpy of the MXNet venv: the same seeded values."""
    session.install("-e", ".[test]", MACHINE["numpy1"])
    session.run("pytest", "tests/core", *session.posargs)


@nox.session(python=PYTHON)
def explain(session: nox.Session) -> None:
    """What a scheme means for one layer in oneinit and in each framework (no framework needed)."""
    session.install("-e", ".")
    args = session.posargs or ["--scheme", "HeNormal", "--layer", "conv_transpose2d"]
    session.run("python", "-m", "oneinit", "explain", *args)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Throughput and memory of the core's seeded sampling against numpy's own fill."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bench_core.py", *session.posargs)


@nox.session(python=PYTHON)
def mxnet(session: nox.Session) -> None:
    """The MXNet adapter on MXNet 1.9.1 and numpy 1.23.5: tests and doctests."""
    session.install(*FRAMEWORK_VENVS["mxnet"][1])
    session.run("pytest", "tests/adapters/test_mxnet.py", *session.posargs)
    session.run(
        "pytest",
        "--doctest-modules",
        "oneinit/adapters/mxnet.py",
        "--doctest-glob=*.md",
        "docs/mxnet.md",
        "-p",
        "no:cacheprovider",
    )


@nox.session(python=PYTHON)
def paddle(session: nox.Session) -> None:
    """The PaddlePaddle adapter: tests and doctests (never in a process with TensorFlow)."""
    session.install(*FRAMEWORK_VENVS["paddle"][1])
    session.run("pytest", "tests/adapters/test_paddle.py", *session.posargs)
    session.run(
        "pytest",
        "--doctest-modules",
        "oneinit/adapters/paddle.py",
        "--doctest-glob=*.md",
        "docs/paddle.md",
        "-p",
        "no:cacheprovider",
    )


@nox.session(python=PYTHON)
def torch(session: nox.Session) -> None:
    """The PyTorch adapter (CPU build): tests (CUDA ones skip without a GPU) and doctests."""
    session.install(*FRAMEWORK_VENVS["torch"][1])
    session.run("pytest", "tests/adapters/test_torch.py", *session.posargs)
    session.run(
        "pytest",
        "--doctest-modules",
        "oneinit/adapters/torch.py",
        "oneinit/core/rules.py",
        "--doctest-glob=*.md",
        "docs/torch.md",
        "-p",
        "no:cacheprovider",
    )


@nox.session(python=PYTHON)
@nox.parametrize("backend", list(KERAS_BACKENDS))
def keras(session: nox.Session, backend: str) -> None:
    """The Keras 3 adapter on one backend (tensorflow, jax or torch), in its own venv."""
    session.install("-e", ".[test]", MACHINE["keras"], MACHINE[KERAS_BACKENDS[backend]])
    env = {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    session.run("pytest", "tests/adapters/test_keras.py", *session.posargs, env=env)
    session.run(
        "pytest",
        "-W",
        KERAS_ARRAY_WARNING,
        "--doctest-modules",
        "oneinit/adapters/keras.py",
        "--doctest-glob=*.md",
        "docs/keras.md",
        "-p",
        "no:cacheprovider",
        env=env,
    )


@nox.session(python=PYTHON)
def parity(session: nox.Session) -> None:
    """The main job: the parity suite and report across PyTorch, Keras, Paddle and MXNet.

    Builds (or reuses) each framework's venv, runs its worker on one request, runs the parity
    suite on the dumps, then prints the report. Arguments choose the report's cases:
    ``nox -s parity -- --scheme HeNormal --layer conv_transpose2d --seed 0``.
    """
    session.install("-e", ".[test,report]")
    out = Path("build/parity").resolve()
    session.run("python", "tests/parity/report.py", "request", str(out), *session.posargs)
    for framework in FRAMEWORK_VENVS:
        python = _framework_python(session, framework)
        env = FRAMEWORK_VENVS[framework][2]
        worker = f"tests/parity/worker_{framework}.py"
        session.run(python, worker, str(out / "request.json"), str(out), env=env, external=True)
    session.run("pytest", "tests/parity", env={"ONEINIT_PARITY_DIR": str(out)})
    session.run("python", "tests/parity/report.py", "show", str(out))


def _framework_python(session: nox.Session, framework: str) -> str:
    """The interpreter of ``framework``'s venv (the one its adapter session uses), built and
    brought up to date with the same requirements.
    """
    name, requirements, _ = FRAMEWORK_VENVS[framework]
    venv = Path(".nox") / name
    python = venv / "bin" / "python"
    if not python.exists():
        session.run("python", "-m", "venv", str(venv))
        session.run(str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip",
                    external=True)
    session.run(str(python), "-m", "pip", "install", "--quiet", *requirements, external=True)
    return str(python)
