"""Plain Click help with the options under headings (``rich_help_panel``), without rich:
``usms send --help`` groups recipients, message, CSV, big batches, safety, output, connection."""

from __future__ import annotations

from typer import _click as click  # Typer >= 0.26 vendors Click
from typer.core import TyperCommand


class SectionedCommand(TyperCommand):
    """Options are listed under their ``rich_help_panel``, panels in ``ORDER`` (then in the
    order they first appear); options without one go under "Options"."""

    ORDER = (
        "Recipients",
        "Message",
        "Personalised CSV",
        "Big batches",
        "Safety",
        "Output",
        "Connection",
    )

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        args: list[tuple[str, str]] = []
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                args.append(record)
            else:
                panel = getattr(param, "rich_help_panel", None) or "Options"
                sections.setdefault(panel, []).append(record)
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        rank = {title: index for index, title in enumerate(self.ORDER)}
        ordered = sorted(sections.items(), key=lambda item: rank.get(item[0], len(rank)))
        for title, records in ordered:
            with formatter.section(title):
                formatter.write_dl(records)
