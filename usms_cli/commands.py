"""What each command does, between parsed options and rendered output.

Each ``run_*`` function resolves settings, reads input, calls the core and the client, renders,
and returns the exit code. Typer is not imported here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from usms_cli.core import Message, check_message
from usms_cli.errors import ConfigError, ExitCode, InputError
from usms_cli.render import Output, invalid_details, plural

PLACEHOLDER_PUBLIC_KEY = "dry-run-public-key"
PLACEHOLDER_PRIVATE_KEY = "dry-run-private-key"


def run_send(
    output: Output,
    *,
    flags: Mapping[str, str | None],
    env_file: Path | None,
    phones: Sequence[str],
    files: Sequence[str],
    column: str | None,
    params: Sequence[str],
    extend_code: str | None,
    user_id: str | None,
    skip_invalid: bool,
    dry_run: bool,
    verbose: bool,
) -> ExitCode:
    from usms_cli import config
    from usms_cli.inputs import gather
    from usms_cli.phones import collect
    from usms_cli.render import render_report

    settings = config.resolve(flags, os.environ, env_file, Path.cwd())
    if not phones and not files:
        raise InputError(
            "no recipients: give phone numbers as arguments, or -f FILE (-f - reads stdin)"
        )
    recipients = collect(gather(phones, files, column=column))
    if recipients.invalid_count and not skip_invalid:
        raise InputError(
            f"{plural(recipients.invalid_count, 'invalid phone number')}; nothing was sent",
            hint="fix them, or pass --skip-invalid to send to the valid numbers only",
            details=invalid_details(recipients),
        )
    if not recipients.numbers:
        raise InputError(
            "no valid phone numbers to send to; nothing was sent",
            details=invalid_details(recipients),
        )
    message = Message(
        template_id=(settings.template_id or "").strip(),
        sig_content=settings.sig_content,
        params=tuple(params),
        extend_code=extend_code,
        user_id=user_id,
        project_id=settings.project_id,
    )
    check_message(message, recipients.numbers)

    if dry_run:
        from usms_cli.send import dry_run as build_dry_run

        report = build_dry_run(
            message,
            recipients,
            settings.public_key or PLACEHOLDER_PUBLIC_KEY,
            settings.private_key or PLACEHOLDER_PRIVATE_KEY,
        )
        render_report(output, report)
        return report.exit_code()

    if not settings.public_key or not settings.private_key:
        missing = [
            name
            for name, value in (
                ("UCLOUD_PUBLIC_KEY", settings.public_key),
                ("UCLOUD_PRIVATE_KEY", settings.private_key),
            )
            if not value
        ]
        raise ConfigError(
            f"no UCloud credentials: {' and '.join(missing)} not set; nothing was sent",
            hint="export them, put them in ./.env, or pass --env-file PATH "
            "(try --dry-run to check everything else)",
        )

    from usms_cli.client import Client
    from usms_cli.send import send

    if recipients.duplicates:
        output.info(f"Removed {plural(recipients.duplicates, 'duplicate number')}.")
    client = Client(settings.base_url, settings.timeout, log=output.verbose if verbose else None)
    try:
        report = send(client, message, recipients, settings.public_key, settings.private_key)
    finally:
        client.close()
    render_report(output, report)
    return report.exit_code()
