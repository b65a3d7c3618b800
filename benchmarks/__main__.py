"""``python -m benchmarks``: run the whole suite (see ``benchmarks._cli``)."""

from __future__ import annotations

import sys

from benchmarks._cli import main

sys.exit(main())
