"""Words that are data and are also read by a person: an API failure (``ApiResult.error``,
which the journal records) and where a setting came from (``Settings.sources``, which
``usms config --json`` shows and code compares).

A :class:`Phrase` is a ``str`` whose value is the English text: what files, JSON and
comparisons see (journal lines, ``json.dumps``, ``source == "command line"``, ``in``, ``+``).
Where it is *shown* (``str(phrase)``, ``f"{phrase}"``, ``tr("… {why}", why=phrase)``) it
reads in this run's language. So a Chinese run shows ``连接被拒绝`` and still writes
``connection refused by the API host`` into its journal.
"""

from __future__ import annotations

from typing import Any

from usms_cli.i18n import tr


def english(value: Any) -> Any:
    """The English text of a :class:`Phrase` (a plain ``str``); any other value unchanged."""
    return str.__str__(value) if isinstance(value, Phrase) else value


class Phrase(str):
    """``Phrase(N_("timed out after {seconds:g} s"), seconds=3.0)``: English as the value,
    this run's language when formatted or printed. Fields may be phrases themselves."""

    template: str
    fields: dict[str, Any]

    def __new__(cls, message: str, /, **fields: Any) -> Phrase:
        text = message.format(**{k: english(v) for k, v in fields.items()}) if fields else message
        self = super().__new__(cls, text)
        self.template = message
        self.fields = fields
        return self

    def __str__(self) -> str:
        return tr(self.template, **self.fields) if self.fields else tr(self.template)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)
