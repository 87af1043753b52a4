"""The few array API functions numpy 1.x spells differently.

Core code is written against the Python array API standard with the namespace ``xp`` as an
argument. numpy >= 2.0 is a conforming namespace; numpy 1.23 (the MXNet venv) lacks
``astype``, ``permute_dims``, ``concat``, ``linalg.diagonal`` and ``argsort(stable=)``, so these
wrappers use numpy's own spelling when ``xp`` is numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = Any  # an array of the namespace ``xp``
Namespace = Any  # a module that follows the Python array API standard


def astype(x: Array, dtype: Any, xp: Namespace) -> Array:
    return x.astype(dtype) if xp is np else xp.astype(x, dtype)


def permute_dims(x: Array, axes: tuple[int, ...], xp: Namespace) -> Array:
    return np.transpose(x, axes) if xp is np else xp.permute_dims(x, axes)


def concat(arrays: list[Array], axis: int, xp: Namespace) -> Array:
    return np.concatenate(arrays, axis=axis) if xp is np else xp.concat(arrays, axis=axis)


def diagonal(x: Array, xp: Namespace) -> Array:
    return np.diagonal(x) if xp is np else xp.linalg.diagonal(x)


def argsort_stable(x: Array, axis: int, xp: Namespace) -> Array:
    if xp is np:
        return np.argsort(x, axis=axis, kind="stable")
    return xp.argsort(x, axis=axis, stable=True)
