"""The engine: everything that touches the world (HTTP, threads, files, settings) on behalf of
the use cases. It imports only usms_cli.core."""
