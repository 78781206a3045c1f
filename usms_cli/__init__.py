"""usms-cli: send SMS through UCloud USMS from the command line."""

__version__ = "0.1.0"
