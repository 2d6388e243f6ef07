"""`python -m rag.cli ...`: the same as the `rag` console script."""

import sys

from rag.cli.main import main

sys.exit(main())
