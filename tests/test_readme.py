"""The README's examples run as written (against the sandbox), so the README cannot drift."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


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
