"""`make prod`'s first step: refuse, in one line and with exit code 2, when the
environment lacks what the production shape needs (deploy/stack.py says what)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy.stack import requirement_problem


def main() -> int:
    problem = requirement_problem(dict(os.environ))
    if problem:
        print(f"make prod: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
