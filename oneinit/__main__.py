"""Command line: ``python -m oneinit explain ...`` (see :mod:`oneinit.explain`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("explain",):
        print("usage: python -m oneinit explain [--help]", file=sys.stderr)
        return 2
    from .explain import main as explain_main

    return explain_main(args[1:])


if __name__ == "__main__":
    raise SystemExit(main())
