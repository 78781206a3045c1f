"""Build the wheel and sdist and check they hold what they should (run by .ci/run)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "usms_cli"
MODULES = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))


def main() -> None:
    out = Path(tempfile.mkdtemp(prefix="usms-dist-"))
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wheel = next(out.glob("usms_cli-*.whl"))
    sdist = next(out.glob("usms_cli-*.tar.gz"))
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [m for m in MODULES if f"usms_cli/{m}" not in names]
    assert not missing, f"wheel lacks {missing}"
    assert not any(n.startswith("tests/") for n in names), "tests do not belong in the wheel"
    mo = "usms_cli/locale/zh_CN/LC_MESSAGES/usms.mo"
    assert mo in names, f"wheel lacks the compiled Chinese catalog {mo}"
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "usms = usms_cli.__main__:run" in zipfile.ZipFile(wheel).read(entry).decode()
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1] for m in archive.getmembers() if "/" in m.name}
    for needed in (
        "README.md",
        "pyproject.toml",
        "usms_cli/cli/__init__.py",
        "tests/conftest.py",
        "completions/_usms",
        "completions/usms.bash",
        "completions/usms.fish",
        "po/zh_CN/help.po",
        "scripts/i18n.py",
        "README.zh-CN.md",
    ):
        assert needed in members, f"sdist lacks {needed}"
    # The wheel installs and runs on its own, in a fresh environment.
    venv = out / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True)
    version = subprocess.run(
        [str(venv / "bin" / "usms"), "--version"], check=True, capture_output=True, text=True
    ).stdout.strip()
    # ... and speaks Chinese with nothing more installed (the .mo came with the wheel).
    chinese = subprocess.run(
        [str(venv / "bin" / "usms"), "send", "--help"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "LANG": "zh_CN.UTF-8", "LC_ALL": "", "USMS_LANG": ""},
    ).stdout
    assert chinese.startswith("用法：usms send"), chinese[:200]
    assert "显示本帮助并退出" in chinese, chinese[-400:]
    # pipx and uv tool install, each into throwaway directories.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pipx", "uv"], check=True)
    bindir = Path(sys.executable).parent
    (out / "home").mkdir()
    env = {
        **os.environ,
        "PATH": f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(out / "home"),
        "PIPX_HOME": str(out / "pipx"),
        "PIPX_BIN_DIR": str(out / "pipx-bin"),
        "UV_TOOL_DIR": str(out / "uv-tools"),
        "UV_TOOL_BIN_DIR": str(out / "uv-bin"),
        "UV_CACHE_DIR": str(out / "uv-cache"),
    }
    subprocess.run(
        [str(bindir / "pipx"), "install", str(wheel)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [str(bindir / "uv"), "tool", "install", str(wheel)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for tool_bin in ("pipx-bin", "uv-bin"):
        said = subprocess.run(
            [str(out / tool_bin / "usms"), "--version"], check=True, capture_output=True, text=True
        ).stdout.strip()
        assert said == version, (tool_bin, said)
    print(f"dist ok: {wheel.name}, {sdist.name}; pip, pipx and uv installs say '{version}'")


if __name__ == "__main__":
    main()
