"""Build or update the index: `python build_index.py [--seeds DIR] [--index DIR] [--json] [--full] [--check]`."""

import sys

from app.cli import build_main

if __name__ == "__main__":
    sys.exit(build_main())
