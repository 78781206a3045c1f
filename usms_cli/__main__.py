"""``python -m usms_cli`` and the ``usms`` console script."""

import sys


def run() -> None:
    """Entry point. A Ctrl-C at any moment, even while modules are still loading, ends the
    run quietly with exit code 130 instead of a Python traceback."""
    try:
        from usms_cli.cli import main

        main()
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise SystemExit(130) from None


if __name__ == "__main__":
    run()
