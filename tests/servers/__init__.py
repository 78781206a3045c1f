"""Fake USMS endpoints for the tests, all on loopback: raw bytes, TLS and proxies, and a
signature-checking fake on pytest-httpserver."""
