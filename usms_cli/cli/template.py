"""``usms template``: create, update, delete, show, wait for the review, and apply a file of
templates (templates as code). ``usms template ID`` is ``usms template show ID``."""

# No ``from __future__ import annotations`` in the CLI modules (start-up time; see send.py).

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from usms_cli.cli.account import (
    IntervalOpt,
    ShowByDefault,
    WaitTimeoutOpt,
    YesOpt,
    connection,
    run,
)
from usms_cli.cli.options import (
    BaseUrlOpt,
    DebugOpt,
    EnvFileOpt,
    JsonOpt,
    ProfileOpt,
    ProjectOpt,
    VerboseOpt,
)

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.core.outcomes import ChangeResult
    from usms_cli.output.console import Output

template_app = typer.Typer(
    cls=ShowByDefault,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Templates: create, update, delete, show, wait for review, apply a file. "
    "'usms template ID' shows one.",
)

IdArg = Annotated[str, typer.Argument(metavar="TEMPLATE_ID", help="Template id.")]
NameOpt = Annotated[
    str | None,
    typer.Option(
        "--name", metavar="NAME", help="Template name (at most 32 characters).", show_default=False
    ),
]
RemarkOpt = Annotated[
    str | None,
    typer.Option(
        "--remark",
        metavar="TEXT",
        help="Why the template is needed (at most 128).",
        show_default=False,
    ),
]
InstructionOpt = Annotated[
    str | None,
    typer.Option(
        "--instruction",
        metavar="TEXT",
        help="What each variable holds, for review.",
        show_default=False,
    ),
]
StatusQuietOpt = Annotated[
    bool, typer.Option("-q", "--quiet", help="Print only the review status.")
]

_CODES_CHANGE = (
    "Exit codes: 0 done · 1 refused by the API · 2 bad input (nothing sent) · 4 API "
    "unreachable · 5 outcome unknown."
)

CREATE_EPILOG = (
    "Examples: usms template create --purpose code --name login --text '您的验证码是{1}，5分钟内"
    "有效。' · usms template create --purpose marketing --name sale --text '春季特卖，全场8折' "
    "--unsubscribe '拒收请回复R' -q\n\n"
    "Checked before sending: at most 500 characters, variables {1}, {2}, … without gaps, not "
    "variables only, the unsubscribe text of a domestic marketing template, name ≤ 32, remark "
    "≤ 128. The new template is under review (about a working day): usms template wait ID.\n\n"
    + _CODES_CHANGE
)


@template_app.command(epilog=CREATE_EPILOG)
def create(
    purpose: Annotated[
        str,
        typer.Option(
            "--purpose", metavar="code|notice|marketing", help="What the template is for."
        ),
    ],
    name: Annotated[
        str, typer.Option("--name", metavar="NAME", help="Template name (at most 32 characters).")
    ],
    text: Annotated[
        str,
        typer.Option("--text", metavar="TEXT", help="Template text with variables {1}, {2}, …"),
    ],
    international: Annotated[
        bool, typer.Option("--international", help="A template for numbers abroad.")
    ] = False,
    remark: RemarkOpt = None,
    unsubscribe: Annotated[
        str | None,
        typer.Option(
            "--unsubscribe",
            metavar="TEXT",
            help="Opt-out text of a marketing template, e.g. '拒收请回复R' (needed at home).",
            show_default=False,
        ),
    ] = None,
    instruction: InstructionOpt = None,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the new id.")] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Create a template (CreateUSMSTemplate) and print its id."""
    from usms_cli.app import templates
    from usms_cli.core.templates import TemplateSpec, parse_purpose
    from usms_cli.output.admin import render_change

    conn = connection(profile, project_id, base_url, env_file, verbose)

    def use_case(output: "Output", env: "Env") -> "ChangeResult":
        spec = TemplateSpec(
            name=name,
            text=text,
            purpose=parse_purpose(purpose),
            international=international,
            remark=remark,
            unsubscribe=unsubscribe,
            instruction=instruction,
        )
        return templates.create(output, env, conn, spec)

    run(use_case, render_change, json_mode=json_mode, quiet=quiet, debug=debug)


UPDATE_EPILOG = (
    "Examples: usms template update UTA1234 --text '您的验证码是{1}，10分钟内有效。' · "
    "usms template update UTA1234 --text '…{1}…' --name login-v2\n\n"
    "Only a template that failed review can be changed; it is reviewed again.\n\n" + _CODES_CHANGE
)


@template_app.command(epilog=UPDATE_EPILOG)
def update(
    template_id: IdArg,
    text: Annotated[
        str, typer.Option("--text", metavar="TEXT", help="The new text, variables {1}, {2}, …")
    ],
    name: NameOpt = None,
    remark: RemarkOpt = None,
    instruction: InstructionOpt = None,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the id.")] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Change a template that failed review (UpdateUSMSTemplate)."""
    from usms_cli.app import templates
    from usms_cli.core.templates import TemplateChange
    from usms_cli.output.admin import render_change

    conn = connection(profile, project_id, base_url, env_file, verbose)
    change = TemplateChange(text, name, remark, instruction)
    run(
        lambda output, env: templates.update(output, env, conn, template_id, change),
        render_change,
        json_mode=json_mode,
        quiet=quiet,
        debug=debug,
    )


DELETE_EPILOG = (
    "Examples: usms template delete UTA1234 · usms template delete UTA1 UTA2 --yes\n\n"
    "Asks first in a terminal; without one, nothing is deleted unless --yes is given.\n\n"
    + _CODES_CHANGE
)


@template_app.command(epilog=DELETE_EPILOG)
def delete(
    template_ids: Annotated[
        list[str], typer.Argument(metavar="TEMPLATE_ID...", help="Template id(s).")
    ],
    yes: YesOpt = False,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the ids.")] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Delete templates (DeleteUSMSTemplate)."""
    from usms_cli.app import templates
    from usms_cli.output.admin import render_change

    conn = connection(profile, project_id, base_url, env_file, verbose)
    run(
        lambda output, env: templates.delete(output, env, conn, template_ids, yes),
        render_change,
        json_mode=json_mode,
        quiet=quiet,
        debug=debug,
    )


SHOW_EPILOG = (
    "Examples: usms template show UTA1234 · usms template UTA1234 --json · "
    "usms template UTA1234 -q\n\n"
    "Exit codes: 0 approved · 1 not approved (under review, rejected) or refused · 2 bad usage "
    "· 4 unreachable · 5 outcome unknown."
)


@template_app.command(epilog=SHOW_EPILOG)
def show(
    template_id: IdArg,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: StatusQuietOpt = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show a template: name, text, purpose, review status (QueryUSMSTemplate)."""
    from usms_cli.app import templates
    from usms_cli.output.admin import render_review

    conn = connection(profile, project_id, base_url, env_file, verbose)
    run(
        lambda output, env: templates.show(output, env, conn, template_id),
        render_review,
        json_mode=json_mode,
        quiet=quiet,
        debug=debug,
    )


WAIT_EPILOG = (
    "Examples: usms template wait UTA1234 · usms template wait UTA1234 --timeout 86400 -q\n\n"
    "Looks after --interval seconds, then backs off by 1.5x up to one look a minute.\n\n"
    "Exit codes: 0 approved · 1 rejected (or refused by the API) · 2 bad usage · 4 unreachable "
    "· 5 still under review at --timeout."
)


@template_app.command(epilog=WAIT_EPILOG)
def wait(
    template_id: IdArg,
    timeout: WaitTimeoutOpt = 600.0,
    interval: IntervalOpt = 5.0,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: StatusQuietOpt = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Wait until a template is approved or rejected (QueryUSMSTemplate)."""
    from usms_cli.app import templates
    from usms_cli.app.review import Patience
    from usms_cli.output.admin import render_review

    conn = connection(profile, project_id, base_url, env_file, verbose)
    patience = Patience(timeout, interval)
    run(
        lambda output, env: templates.wait(output, env, conn, template_id, patience),
        render_review,
        json_mode=json_mode,
        quiet=quiet,
        debug=debug,
    )


APPLY_EPILOG = (
    "Examples: usms template apply templates.toml · usms template apply templates.toml "
    "--dry-run · usms template apply templates.toml --update --prune --json\n\n"
    "The file is the registry (USMS cannot list templates): each [[template]] has name, "
    "purpose (code|notice|marketing), text, and optionally international, remark, unsubscribe, "
    "instruction. Entries without an id are created and their ids written back into the file "
    "(comments and order kept). --update sends the file's text and name where they differ from "
    "USMS's. --prune deletes the entries marked delete = true (their id becomes deleted_id).\n\n"
    "Exit codes: 0 every template approved or under review · 1 a template rejected, or a call "
    "refused · 2 bad file (nothing sent) · 3 partly done (the API became unreachable, or the "
    "file could not take a new id) · 4 unreachable · 5 outcome unknown."
)


@template_app.command(epilog=APPLY_EPILOG)
def apply(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="TOML file of [[template]] entries.")
    ],
    update_: Annotated[
        bool, typer.Option("--update", help="Update templates whose text or name differ.")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete the entries marked delete = true.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show the plan; create, change and delete nothing."),
    ] = False,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Print 'name<TAB>id<TAB>status' lines.")
    ] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Create what a file of templates lacks, write the ids back, report every review."""
    from usms_cli.app.apply import ApplyRequest
    from usms_cli.app.apply import apply as run_apply
    from usms_cli.output.admin import render_apply

    conn = connection(profile, project_id, base_url, env_file, verbose)
    request = ApplyRequest(file, update=update_, prune=prune, dry_run=dry_run)
    run(
        lambda output, env: run_apply(output, env, conn, request),
        render_apply,
        json_mode=json_mode,
        quiet=quiet,
        debug=debug,
    )
