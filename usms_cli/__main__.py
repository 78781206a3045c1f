"""``python -m usms_cli`` runs the ``usms`` command."""

from usms_cli.cli import main

if __name__ == "__main__":
    main()
