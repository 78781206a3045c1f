"""What a person or a script reads: the console streams, human and JSON rendering, and the
GitHub/GitLab report formats. It imports only usms_cli.core."""
