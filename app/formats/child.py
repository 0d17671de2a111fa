"""The child process of `app.formats._read_isolated`: `python -m app.formats.child SUFFIX NAME`
reads the file's bytes from stdin and writes `{"extracted": …}` or `{"skipped": reason}`."""

import json
import sys

from . import _to_json, read
from .common import SkippedFile


def main() -> int:
    suffix, name = sys.argv[1], sys.argv[2]
    raw = sys.stdin.buffer.read()
    try:
        answer = _to_json(read(raw, suffix, name))
    except SkippedFile as skipped:
        answer = {"skipped": skipped.reason}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
