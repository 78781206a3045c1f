"""The pure core: USMS protocol knowledge and the rules of a send. No I/O here, and no
imports of requests, rich or typer, nor of any other usms_cli layer (tests/test_layers.py)."""
