"""`usms template create/update/delete/show/wait/apply`: against the sandbox (review included),
against a signature-checking HTTP server that pins the exact form, and the official SDK."""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import creds
from tests.conftest import run_unchecked as run_usms  # these tests check exit codes themselves
from tests.servers.fake_usms import FakeUSMS, api
from usms_cli.sandbox import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PROJECT_ID,
    DEFAULT_PUBLIC_KEY,
    SandboxConfig,
    SandboxServer,
    Template,
    start_sandbox,
)

CODE = "您的验证码是{1}，5分钟内有效。"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(review_delay=0.3, receipt_delay=0.1)
    config.templates["UTREJ"] = Template(
        "UTREJ", "{1}", purpose=2, status=3, name="bare", err_desc="模板不能仅包含变量"
    )
    with start_sandbox(config) as server:
        yield server


def env_for(server: SandboxServer) -> dict[str, str]:
    return {
        "UCLOUD_PUBLIC_KEY": DEFAULT_PUBLIC_KEY,
        "UCLOUD_PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
        "UCLOUD_API_BASE_URL": server.base_url,
        "UCLOUD_PROJECT_ID": DEFAULT_PROJECT_ID,
    }


def fake_env(fake: FakeUSMS) -> dict[str, str]:
    return {**creds(), "UCLOUD_API_BASE_URL": fake.url, "UCLOUD_PROJECT_ID": "org-test"}


# ---- create, show, wait against the sandbox ---------------------------------------------------


def test_create_prints_the_id_and_the_template_is_under_review_then_approved(
    sandbox: SandboxServer,
) -> None:
    env = env_for(sandbox)
    created = run_usms(
        "template", "create", "--purpose", "code", "--name", "login", "--text", CODE, "-q", env=env
    )
    assert created.exit_code == 0, created.stderr
    template_id = created.stdout.strip()
    assert sandbox.config.templates[template_id].text == CODE

    shown = run_usms("template", template_id, "-q", env=env)  # the old look-up, now `show`
    assert (shown.exit_code, shown.stdout.strip()) == (1, "under review")

    waited = run_usms("template", "wait", template_id, "--interval", "0.1", "--json", env=env)
    assert waited.exit_code == 0, waited.stderr
    assert waited.json["review"] == "approved" and waited.json["timed_out"] is False
    sent = run_usms(
        "send", "-q", "-t", template_id, "-s", "USMSSandbox", "-p", "1", "13800000000", env=env
    )
    assert sent.exit_code == 0, sent.stderr


def test_create_human_and_json_output(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    human = run_usms(
        "template",
        "create",
        "--purpose",
        "notice",
        "--name",
        "n",
        "--text",
        "Order {1} ships today",
        env=env,
    )
    assert human.exit_code == 0
    assert "Created template UTS" in human.stdout.splitlines()[0]
    assert "under review" in human.stdout
    assert "usms template wait" in human.stderr
    as_json = run_usms(
        "template",
        "create",
        "--purpose",
        "notice",
        "--name",
        "n",
        "--text",
        "Order {1} ships",
        "--json",
        env=env,
    )
    payload = as_json.json
    assert payload["ok"] is True and payload["action"] == "create"
    assert payload["ids"][0] in sandbox.config.templates


def test_a_template_the_review_rejects_makes_wait_exit_1_with_the_reason(
    sandbox: SandboxServer,
) -> None:
    env = env_for(sandbox)
    # usms api skips the local checks, so the sandbox's review is what refuses it
    created = run_usms(
        "api", "CreateUSMSTemplate", "Purpose=2", "TemplateName=bare", "Template={1}{2}", env=env
    )
    template_id = created.json["TemplateId"]
    waited = run_usms("template", "wait", template_id, "--interval", "0.1", env=env)
    assert waited.exit_code == 1
    assert "rejected" in waited.stdout and "仅包含变量" in waited.stdout


def test_wait_gives_up_with_exit_5_while_still_under_review() -> None:
    with start_sandbox(SandboxConfig(review_delay=60)) as server:
        env = env_for(server)
        template_id = run_usms(
            "template", "create", "--purpose", "code", "--name", "x", "--text", CODE, "-q", env=env
        ).stdout.strip()
        waited = run_usms(
            "template", "wait", template_id, "--timeout", "0.4", "--interval", "0.1", env=env
        )
    assert waited.exit_code == 5
    assert "gave up waiting" in waited.stderr and "under review" in waited.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--text", "x" * 501], "at most 500"),
        (["--text", "Hello {1} and {3}"], "missing {2}"),
        (["--text", "{1}{2}"], "variables only"),
        (["--text", "Hi {1} ★"], "★"),
        (["--text", "Hi {1}", "--name", "n" * 33], "the name is 33 characters"),
        (["--text", "Hi {1}", "--remark", "r" * 129], "the remark is 129"),
        (["--text", "Sale!", "--purpose", "marketing"], "--unsubscribe"),
        (["--text", "Hi", "--purpose", "promo"], "code, notice or marketing"),
    ],
)
def test_local_checks_refuse_before_anything_is_sent(
    fake: FakeUSMS, args: list[str], words: str
) -> None:
    options = {"--name": "n", "--purpose": "notice"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        options[flag] = value
    flat = [item for pair in options.items() for item in pair]
    result = run_usms("template", "create", *flat, env=fake_env(fake))
    assert result.exit_code == 2
    assert words in result.stderr
    assert fake.count == 0


# ---- the exact wire form --------------------------------------------------------------------


def test_create_sends_exactly_the_documented_parameters(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(0, "", TemplateId="UTA190816758B3F"))
    result = run_usms(
        "template", "create", "--purpose", "marketing", "--name", "spring", "--text",
        "春季特卖，全场8折", "--unsubscribe", "拒收请回复R", "--remark", "season",
        "--instruction", "none", "-q", env=fake_env(fake),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "UTA190816758B3F\n"
    [form] = fake.requests
    sent = {k: v for k, v in form.items() if k not in ("PublicKey", "Signature")}
    assert sent == {
        "Action": "CreateUSMSTemplate",
        "ProjectId": "org-test",
        "Purpose": "3",
        "TemplateName": "spring",
        "Template": "春季特卖，全场8折",
        "Remark": "season",
        "UnsubscribeInfo": "【拒收请回复R】",
        "Instruction": "none",
    }


def test_international_is_a_bool_and_needs_no_unsubscribe_text(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(0, "", TemplateId="UTB1"))
    result = run_usms(
        "template",
        "create",
        "--purpose",
        "marketing",
        "--name",
        "s",
        "--text",
        "Big sale today",
        "--international",
        env=fake_env(fake),
    )
    assert result.exit_code == 0, result.stderr
    assert fake.requests[0]["International"] == "true"
    assert "UnsubscribeInfo" not in fake.requests[0]


def test_a_create_answer_without_an_id_is_exit_5_and_never_sent_twice(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(0, "", TemplateId=""))
    result = run_usms(
        "template", "create", "--purpose", "code", "--name", "n", "--text", CODE, env=fake_env(fake)
    )
    assert result.exit_code == 5
    assert "holds no TemplateId" in result.stderr
    assert fake.count == 1


def test_a_create_whose_answer_is_lost_is_not_retried(fake: FakeUSMS) -> None:
    from werkzeug import Response

    fake.answer(lambda form: Response("oops", status=502))
    result = run_usms(
        "template", "create", "--purpose", "code", "--name", "n", "--text", CODE, env=fake_env(fake)
    )
    assert result.exit_code == 5
    assert fake.count == 1


def test_update_and_delete_forms(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(0, ""))
    updated = run_usms(
        "template", "update", "UTA1", "--text", "Code {1}", "--name", "v2", env=fake_env(fake)
    )
    assert updated.exit_code == 0, updated.stderr
    assert "reviewed again" in updated.stdout or "under review again" in updated.stdout
    deleted = run_usms(
        "template", "delete", "UTA1", "UTA2", "UTA1", "--yes", "--json", env=fake_env(fake)
    )
    assert deleted.exit_code == 0, deleted.stderr
    assert deleted.json["ids"] == ["UTA1", "UTA2"]
    update_form, delete_form = fake.requests
    assert {k: update_form[k] for k in ("Action", "TemplateId", "Template", "TemplateName")} == {
        "Action": "UpdateUSMSTemplate",
        "TemplateId": "UTA1",
        "Template": "Code {1}",
        "TemplateName": "v2",
    }
    assert delete_form["Action"] == "DeleteUSMSTemplate"
    assert (delete_form["TemplateIds.0"], delete_form["TemplateIds.1"]) == ("UTA1", "UTA2")
    assert "TemplateIds.2" not in delete_form


def test_delete_without_a_terminal_or_yes_sends_nothing(fake: FakeUSMS) -> None:
    result = run_usms("template", "delete", "UTA1", env=fake_env(fake))
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert fake.count == 0


@pytest.mark.parametrize(("answer", "deleted"), [("y\n", True), ("n\n", False), ("", False)])
def test_delete_asks_in_a_terminal(fake: FakeUSMS, answer: str, deleted: bool) -> None:
    from usms_cli.app.common import Connection
    from usms_cli.app.env import Env
    from usms_cli.app.templates import delete
    from usms_cli.core.errors import InputError
    from usms_cli.output.console import Output

    environ = {**fake_env(fake), "HOME": os.environ["HOME"]}
    env = Env(environ=environ, stdin=io.StringIO(answer), interactive=lambda: True)
    err = io.StringIO()
    console = Output(stdout=io.StringIO(), stderr=err)
    if deleted:
        assert delete(console, env, Connection(), ["UTA9"], yes=False).ids == ["UTA9"]
    else:
        with pytest.raises(InputError, match="not confirmed"):
            delete(console, env, Connection(), ["UTA9"], yes=False)
    assert "delete 1 template (UTA9)? This cannot be undone." in err.getvalue()
    assert fake.count == (1 if deleted else 0)


def test_update_is_refused_unless_the_review_failed_and_then_reviewed_again(
    sandbox: SandboxServer,
) -> None:
    env = env_for(sandbox)
    refused = run_usms("template", "update", "UTSANDBOX1", "--text", "Code {1} now", env=env)
    assert refused.exit_code == 1
    assert "RetCode 18003" in refused.stderr
    fixed = run_usms("template", "update", "UTREJ", "--text", "您的订单{1}已发货", env=env)
    assert fixed.exit_code == 0, fixed.stderr
    waited = run_usms("template", "wait", "UTREJ", "--interval", "0.1", "-q", env=env)
    assert (waited.exit_code, waited.stdout.strip()) == (0, "approved")


def test_show_subcommand_and_shortcut_agree(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    long = run_usms("template", "show", "UTSANDBOX1", "--json", env=env)
    short = run_usms("template", "UTSANDBOX1", "--json", env=env)
    assert long.exit_code == short.exit_code == 0
    assert long.json == short.json
    assert long.json["status"] == "approved"


# ---- the official SDK -------------------------------------------------------------------------


def test_official_sdk_creates_a_template_in_the_sandbox_and_reads_it_back() -> None:
    pytest.importorskip("ucloud")
    from ucloud.services.usms.client import USMSClient

    with start_sandbox(SandboxConfig(review_delay=0)) as server:
        client = USMSClient(
            {
                "base_url": server.base_url,
                "project_id": DEFAULT_PROJECT_ID,
                "region": "cn-bj2",
                "public_key": DEFAULT_PUBLIC_KEY,
                "private_key": DEFAULT_PRIVATE_KEY,
            }
        )
        created = client.create_usms_template(
            {"Purpose": 2, "TemplateName": "sdk", "Template": "您的订单{1}已发货", "Remark": "r"}
        )
        template_id = created["TemplateId"]
        data = client.query_usms_template({"TemplateId": template_id})["Data"]
    assert data["Template"] == "您的订单{1}已发货"
    assert (data["TemplateName"], data["Purpose"], data["Status"]) == ("sdk", 2, 2)
    shown = run_usms("template", template_id, env=env_for(server))  # the server is closed now
    assert shown.exit_code == 4


# ---- templates as code ------------------------------------------------------------------------

REGISTRY = """\
# Our SMS templates: usms template apply writes the ids.
[[template]]
name = "login"          # shown in the console
purpose = "code"
text = "您的验证码是{1}，5分钟内有效。"

# The promotion for spring
[[template]]
name = "spring"
purpose = "marketing"
text = "春季特卖，全场8折"
unsubscribe = "拒收请回复R"
"""


def test_apply_creates_writes_the_ids_back_and_keeps_comments_and_mode(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    path = tmp_path / "templates.toml"
    path.write_text(REGISTRY, encoding="utf-8")
    path.chmod(0o640)
    result = run_usms("template", "apply", str(path), "--json", env=env_for(sandbox))
    assert result.exit_code == 0, result.stderr
    items = result.json["templates"]
    assert [i["action"] for i in items] == ["created", "created"]
    assert [i["status"] for i in items] == ["under review", "under review"]
    text = path.read_text(encoding="utf-8")
    for item in items:
        assert f'id = "{item["id"]}"' in text
        assert item["id"] in sandbox.config.templates
    assert "# The promotion for spring\n[[template]]" in text  # the comment stays with its entry
    assert 'name = "login"          # shown in the console' in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temp file left

    again = run_usms("template", "apply", str(path), env=env_for(sandbox))
    assert again.exit_code == 0
    assert "2 unchanged" in again.stdout
    assert path.read_text(encoding="utf-8") == text


def test_apply_dry_run_sends_no_change_and_writes_nothing(fake: FakeUSMS, tmp_path: Path) -> None:
    path = tmp_path / "templates.toml"
    path.write_text(REGISTRY, encoding="utf-8")
    result = run_usms("template", "apply", str(path), "--dry-run", env=fake_env(fake))
    assert result.exit_code == 0, result.stderr
    assert "would create" in result.stdout and "dry run" in result.stdout
    assert path.read_text(encoding="utf-8") == REGISTRY
    assert fake.count == 0


def test_apply_reports_rejected_templates_with_exit_1(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        '[[template]]\nname = "bare"\npurpose = "notice"\ntext = "Hi {1}"\nid = "UTREJ"\n',
        encoding="utf-8",
    )
    result = run_usms("template", "apply", str(path), env=env_for(sandbox))
    assert result.exit_code == 1
    assert "rejected" in result.stdout and "仅包含变量" in result.stdout


def test_apply_update_and_prune(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        '[[template]]\nname = "bare"\npurpose = "notice"\ntext = "您的订单{1}已发货"\n'
        'id = "UTREJ"\n\n'
        '[[template]]\nname = "old"\npurpose = "code"\ntext = "x{1}"\nid = "UTSANDBOX1"  # bye\n'
        "delete = true\n",
        encoding="utf-8",
    )
    env = env_for(sandbox)
    plain = run_usms("template", "apply", str(path), "--json", env=env)
    assert [i["action"] for i in plain.json["templates"]] == ["differs", "delete"]
    assert "--prune" in plain.json["templates"][1]["reason"]
    assert "UTSANDBOX1" in sandbox.config.templates

    done = run_usms("template", "apply", str(path), "--update", "--prune", "--json", env=env)
    assert done.exit_code == 0, done.stderr
    assert [i["action"] for i in done.json["templates"]] == ["updated", "deleted"]
    assert sandbox.config.templates["UTREJ"].text == "您的订单{1}已发货"
    assert "UTSANDBOX1" not in sandbox.config.templates
    assert 'deleted_id = "UTSANDBOX1"  # bye' in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[[template]]\nname = 'x'\n", "'text' is missing"),
        ("[[template]]\nname = 'x'\ntext = 'a {2}'\n", "missing {1}"),
        ("[[template]]\nname = 'x'\ntext = 'hi'\ncolour = 'red'\n", "unknown key(s) colour"),
        ("[[template]]\nname = 'x'\ntext = 'hi'\npurpose = 'spam'\n", "code, notice or market"),
        (
            "[[template]]\nname = 'x'\ntext = 'hi'\nid = 'U1'\n[[template]]\nname = 'y'\n"
            "text = 'hi'\nid = 'U1'\n",
            "also #1",
        ),
        ("[template\n", "not valid TOML"),
        ("[other]\n", "unknown table(s) other"),
    ],
)
def test_apply_refuses_a_bad_file_before_sending(
    fake: FakeUSMS, tmp_path: Path, content: str, words: str
) -> None:
    path = tmp_path / "t.toml"
    path.write_text(content, encoding="utf-8")
    result = run_usms("template", "apply", str(path), env=fake_env(fake))
    assert result.exit_code == 2
    assert words in result.stderr
    assert fake.count == 0


def test_apply_keeps_ids_already_written_when_a_later_create_is_unknown(
    fake: FakeUSMS, tmp_path: Path
) -> None:
    from werkzeug import Response

    def answer(form: dict[str, str]) -> Any:
        if form["Action"] == "QueryUSMSTemplate":
            return api(0, "", Data={"TemplateId": form["TemplateId"], "Status": 1})
        if form["TemplateName"] == "login":
            return api(0, "", TemplateId="UTNEW1")
        return Response("", status=504)

    fake.answer(answer)
    path = tmp_path / "t.toml"
    path.write_text(REGISTRY, encoding="utf-8")
    result = run_usms("template", "apply", str(path), "--json", env=fake_env(fake))
    assert result.exit_code == 5
    assert [i["action"] for i in result.json["templates"]] == ["created", "create"]
    assert "created twice" in result.json["templates"][1]["error"]
    assert 'id = "UTNEW1"' in path.read_text(encoding="utf-8")
    creates = [f for f in fake.requests if f["Action"] == "CreateUSMSTemplate"]
    assert len(creates) == 2  # the lost one was not asked again


def test_apply_stops_with_exit_3_when_the_new_id_cannot_be_written_back(
    fake: FakeUSMS, tmp_path: Path
) -> None:
    import shutil

    folder = tmp_path / "registry"
    folder.mkdir()
    path = folder / "t.toml"
    path.write_text(REGISTRY, encoding="utf-8")

    def answer(form: dict[str, str]) -> Any:
        shutil.rmtree(folder, ignore_errors=True)  # the file's folder goes away meanwhile
        return api(0, "", TemplateId="UTNEW1")

    fake.answer(answer)
    result = run_usms("template", "apply", str(path), "--json", env=fake_env(fake))
    assert result.exit_code == 3
    first, second = result.json["templates"]
    assert 'add id = "UTNEW1" to this entry by hand' in first["error"]
    assert second["action"] == "not attempted"
    assert fake.count == 1  # the second template was not created without a place to record it


# ---- the create answer parser -----------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(["TemplateId", "SigId", "RetCode", "x"]), JSON) | JSON)
def test_create_answers_of_any_shape_give_an_id_or_none(body: Any) -> None:
    from usms_cli.core.templates import created_id

    for key in ("TemplateId", "SigId"):
        found = created_id(body, key)
        assert found is None or (isinstance(found, str) and found == found.strip() and found)


def test_create_answer_examples() -> None:
    from usms_cli.core.templates import created_id

    assert created_id({"TemplateId": "UTA190816758B3F"}, "TemplateId") == "UTA190816758B3F"
    assert created_id({"TemplateId": " UT1 "}, "TemplateId") == "UT1"
    assert created_id({"TemplateId": 12345}, "TemplateId") == "12345"
    assert created_id({"TemplateId": "a b"}, "TemplateId") is None
    assert created_id({"TemplateId": True}, "TemplateId") is None
    assert created_id(json.loads('["UT1"]'), "TemplateId") is None
