"""python -m xcnn: the xcnn command line."""

import sys

from .cli import main

sys.exit(main())
