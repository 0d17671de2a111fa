"""The child process of `app.formats._read_isolated`: `python -m app.formats.child SUFFIX NAME
BYTES` limits its own address space to BYTES (set here, not by the parent: a pre-exec hook is
unsafe in a threaded server), reads the file's bytes from stdin and writes `{"extracted": …}` or
`{"skipped": reason}`."""

import json
import resource
import sys

from . import _to_json, read
from .common import SkippedFile


def main() -> int:
    suffix, name, memory = sys.argv[1], sys.argv[2], int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    raw = sys.stdin.buffer.read()
    try:
        answer = _to_json(read(raw, suffix, name))
    except SkippedFile as skipped:
        answer = {"skipped": skipped.reason}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
