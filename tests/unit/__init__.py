"""Unit tests: pure core functions and the engine pieces (sender, pacer, client, journal)
driven directly, without the CLI."""
