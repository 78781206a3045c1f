"""Use cases: send, personalised send, receipts, look-ups, config check, sandbox run. They
return results and exit codes; the CLI layer renders them. No Typer here."""
