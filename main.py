"""Entry point: `python main.py [--source 0|clip.mp4]` opens the desktop app;
`python main.py annotate INPUT -o OUT.mp4 ...` annotates a video headlessly."""
from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if argv and argv[0] == "annotate":
        from c3ae.runtime.stops import record_stops

        record_stops()  # before the seconds of imports: a stop then is kept, not lost or a traceback
        from c3ae.cli.annotate import main as annotate_main

        return annotate_main(argv[1:])
    from app.main import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
