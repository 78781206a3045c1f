"""The README's examples run as written (against the sandbox), so the README cannot drift."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
README_ZH = README.with_name("README.zh-CN.md")


def section(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_the_python_example_sends_through_the_sandbox(tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", section("From Python"), re.S)
    assert code is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UCLOUD_", "USMS_"))}
    env["HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first.startswith("OK ['") and second == (
        "{'delivered': 1, 'failed': 0, 'unknown': 0, 'pending': 0}"
    )


def test_the_folder_map_names_every_layer() -> None:
    built = section("How it is built")
    package = README.parent / "usms_cli"
    for folder in sorted(p.name for p in package.iterdir() if (p / "__init__.py").exists()):
        assert f"  {folder}/" in built, folder


# ---- every shell example, run as written against a sandbox (issue 13) -------------------------

SKIP = ("python3 -m venv", "usms sandbox", "export ", "*/5 * * * *", "$ usms")
STAND_INS = {
    "some-command": "printf '13800000007\\n'",
    'mysql -N -e "select mobile from staff where on_call"': "printf '13800000001\\n'",
}


def shell_examples(readme: Path = README) -> list[tuple[str, str]]:
    """(section, script) for each ```sh block: the runnable lines, continuation lines joined."""
    text = readme.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"```(?:sh|bash)\n(.*?)```", text, re.S):
        heading = text[: match.start()].rsplit("\n## ", 1)[-1].split("\n", 1)[0]
        script = match.group(1).replace("\\\n", " ")
        lines = [line for line in script.splitlines() if line.strip()]
        if any(line.startswith(SKIP) for line in lines) and heading in (
            "Quick start",
            "Tests",
            "快速开始",
            "测试",
        ):
            continue
        kept = [line for line in lines if not line.startswith(SKIP)]
        if kept:
            found.append((heading, "\n".join(kept)))
    return found


def _fixtures(folder: Path) -> None:
    (folder / "numbers.txt").write_text("13800000000\n13800000001\n")
    (folder / "customers.csv").write_text("phone,name\n13800000002,A\n13800000003,B\n")
    (folder / "200k-customers.txt").write_text("".join(f"1390000{i:04d}\n" for i in range(50)))
    (folder / "people.csv").write_text("phone,code\n13800000004,123456\n13800000005,654321\n")
    (folder / "oncall.txt").write_text("13800000006\n")
    (folder / "opt-outs.txt").write_text("13800000008\n")
    (folder / "licence.jpg").write_bytes(b"\xff\xd8\xff\xe0 a small stand-in image \xff\xd9")


@pytest.fixture(scope="module")
def readme_sandbox() -> Iterator[dict[str, str]]:
    from usms_cli.sandbox import SandboxConfig, Signature, Template, start_sandbox

    config = SandboxConfig(receipt_delay=0.2)
    config.templates["UTA1234"] = Template("UTA1234", "您的验证码是{1}，5分钟内有效。", purpose=1)
    config.templates["UTN5678"] = Template("UTN5678", "您关注的服务有新的通知，请登录控制台查看。")
    config.templates["UTR4321"] = Template("UTR4321", "您的验证码是{1}。", purpose=1, status=3)
    config.signatures["Acme"] = Signature("SIG-Acme", "Acme")
    server = start_sandbox(config)
    yield {
        "UCLOUD_API_BASE_URL": server.base_url,
        "UCLOUD_PUBLIC_KEY": config.public_key,
        "UCLOUD_PRIVATE_KEY": config.private_key,
        "UCLOUD_PROJECT_ID": config.project_id,
    }
    server.close()


@pytest.mark.parametrize(
    ("section", "script"),
    shell_examples() + shell_examples(README_ZH),
    ids=lambda v: v[:30],
)
def test_every_shell_example_runs_as_written(
    section: str, script: str, readme_sandbox: dict[str, str], tmp_path: Path
) -> None:
    _fixtures(tmp_path)
    for old, new in STAND_INS.items():
        script = script.replace(old, new)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UCLOUD_", "USMS_"))}
    env.update(readme_sandbox, HOME=str(tmp_path), TPL="UTN5678", SIG="Acme")
    env["USMS_NOW"] = "2026-11-24T10:00:00+08:00"
    prelude = (
        f'usms() {{ "{sys.executable}" -m usms_cli "$@"; }}\n'
        "SN=$(usms send -q -t UTA1234 -s Acme -p 654321 13800000099)\n"
        "sleep 0.4\n"  # past the sandbox's receipt delay
    )
    script = re.sub(r"--wait(?=\s|$)", "--wait --wait-interval 0.2", script)
    # a SessionNo written into the README stands for "the one usms send printed"
    script = re.sub(r"\b5a3c9e1b-7d42-4f7e-9c1a-2b8d4e6f0a13\b", '"$SN"', script)
    done = subprocess.run(
        ["bash", "-c", prelude + "set -e\n" + script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{section}:\n{script}\n{done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr
