"""Start-up cost of `usms`, as ratios against `python -c "import typer"` measured in the same run.

Usage: python benchmarks/startup.py [--runs 15] [--python PATH]

Runs every case alternately (round-robin) ``--runs`` times and prints medians and ratios:
`usms --help` and one TAB completion in English and in Chinese (``USMS_LANG=zh``: the
catalog is read), `usms --version`, `usms send --dry-run` of one number, one real send to a
local sandbox, a bare `import typer`, the floor of a send (a script importing Typer and
requests that signs and posts the same request), and (when ucloud-sdk-python3 is installed) a
minimal official-SDK script doing the same send. ``--python`` times another virtual
environment's interpreter (e.g. one with a different Typer) against its own baseline.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SDK_SCRIPT = """
import os
from ucloud.services.usms.client import USMSClient
client = USMSClient({
    "base_url": os.environ["UCLOUD_API_BASE_URL"], "project_id": "org-sandbox",
    "public_key": os.environ["UCLOUD_PUBLIC_KEY"], "private_key": os.environ["UCLOUD_PRIVATE_KEY"],
})
resp = client.send_usms_message({
    "PhoneNumbers": ["13800000000"], "TemplateId": os.environ["USMS_TEMPLATE_ID"],
    "SigContent": os.environ["USMS_SIG_CONTENT"], "TemplateParams": ["123456"],
})
print(resp["SessionNo"])
"""

# The floor of a send: Typer and requests imported, the same request signed and posted, nothing
# else. What a send costs beyond it is usms's own work.
FLOOR_SCRIPT = """
import hashlib, os, typer, requests
params = {
    "Action": "SendUSMSMessage", "ProjectId": "org-sandbox",
    "PublicKey": os.environ["UCLOUD_PUBLIC_KEY"], "PhoneNumbers.0": "13800000000",
    "TemplateId": os.environ["USMS_TEMPLATE_ID"], "SigContent": os.environ["USMS_SIG_CONTENT"],
    "TemplateParams.0": "123456",
}
text = "".join(k + str(params[k]) for k in sorted(params)) + os.environ["UCLOUD_PRIVATE_KEY"]
params["Signature"] = hashlib.sha1(text.encode()).hexdigest()
answer = requests.post(os.environ["UCLOUD_API_BASE_URL"], json=params, timeout=10).json()
assert answer["RetCode"] == 0, answer
print(answer["SessionNo"])
"""


def start_sandbox(python: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [python, "-m", "usms_cli", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    env: dict[str, str] = {}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and "USMS_SIG_CONTENT" not in env:
        line = proc.stdout.readline()
        if not line:
            break
        match = re.match(r"\s*export (\w+)=(.*)", line)
        if match:
            env[match.group(1)] = match.group(2).strip().strip("'\"")
    if "UCLOUD_API_BASE_URL" not in env:
        proc.kill()
        raise SystemExit("the sandbox did not start")
    return proc, env


def sdk_available(python: str) -> bool:
    return subprocess.run([python, "-c", "import ucloud"], capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    python = args.python
    usms = [python, "-m", "usms_cli"]
    bindir = Path(python).parent
    if (bindir / "usms").exists():
        usms = [str(bindir / "usms")]

    sandbox, sandbox_env = start_sandbox(python)
    # Measure what an installed tool does: bytecode cached (some environments set
    # PYTHONDONTWRITEBYTECODE, which would recompile an editable install on every run).
    base_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UCLOUD_", "USMS_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    # A real send records into the send history, as it does for a user (a file kept across the
    # runs); --again because the same message to the same number is a repeat.
    history = tempfile.mkdtemp(prefix="usms-startup-")
    send_env = {**base_env, **sandbox_env, "USMS_HISTORY": os.path.join(history, "h.sqlite3")}
    tab_env = {
        **base_env,
        "_USMS_COMPLETE": "complete_bash",
        "COMP_WORDS": "usms s",
        "COMP_CWORD": "1",
    }
    zh_env = {**base_env, "USMS_LANG": "zh"}
    cases: dict[str, tuple[list[str], dict[str, str]]] = {
        "import typer": ([python, "-c", "import typer"], base_env),
        "import typer, requests": ([python, "-c", "import typer, requests"], base_env),
        "usms --help": ([*usms, "--help"], base_env),
        "usms --help (zh)": ([*usms, "--help"], zh_env),
        "usms --version": ([*usms, "--version"], base_env),
        "TAB completion": (usms, tab_env),
        "TAB completion (zh)": (usms, {**tab_env, "USMS_LANG": "zh"}),
        "send --dry-run": (
            [*usms, "send", "--dry-run", "-t", "T", "-s", "SS", "13800000000"],
            base_env,
        ),
        "send (sandbox)": (
            [*usms, "send", "-q", "--again", "-p", "123456", "13800000000"],
            send_env,
        ),
        # issue 11's measure, written before the send history existed (issue 14)
        "send, history off": (
            [*usms, "send", "-q", "-p", "123456", "13800000000"],
            {**send_env, "USMS_HISTORY": "off"},
        ),
    }
    cases["bare requests.post"] = ([python, "-c", FLOOR_SCRIPT], send_env)
    if sdk_available(python):
        cases["SDK send script"] = ([python, "-c", SDK_SCRIPT], send_env)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for command, env in cases.values():  # warm-up: bytecode caches, page cache
        subprocess.run(command, env=env, capture_output=True)
    try:
        for _ in range(args.runs):
            for name, (command, env) in cases.items():
                start = time.perf_counter()
                done = subprocess.run(command, env=env, capture_output=True)
                times[name].append(time.perf_counter() - start)
                if done.returncode != 0:
                    raise SystemExit(f"{name} failed: {done.stderr.decode()[-500:]}")
    finally:
        sandbox.terminate()
        sandbox.wait(5)
    typer_version = subprocess.run(
        [python, "-c", "import typer; print(typer.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    base = median["import typer"]
    both = median["import typer, requests"]
    print(f"python {python}  typer {typer_version}  runs {args.runs} (median ms)")
    for name, ms in median.items():
        print(f"  {name:<22} {ms:8.1f} ms   {ms / base:5.2f}x import typer")
    goals = [
        ("TAB completion", median["TAB completion"] / base, 1.3, "import typer"),
        ("TAB (zh)", median["TAB completion (zh)"] / base, 1.3, "import typer"),
        ("usms --help", median["usms --help"] / base, 2.0, "import typer"),
        ("--help (zh)", median["usms --help (zh)"] / base, 2.0, "import typer"),
        ("send (sandbox)", median["send (sandbox)"] / both, 1.15, "import typer, requests"),
        ("send, no history", median["send, history off"] / both, 1.15, "import typer, requests"),
    ]
    for name, ratio, goal, against in goals:
        verdict = "ok" if ratio <= goal else "MISSED"
        print(f"goal: {name:<15} {ratio:5.2f}x {against:<22} (<= {goal}) {verdict}")
    floor = median["bare requests.post"] / both
    print(
        f"      the floor (typer + requests + one signed post): {floor:.2f}x import typer, requests"
    )
    if "SDK send script" in median:
        ratio = median["send (sandbox)"] / median["SDK send script"]
        print(f"      send vs the official SDK's script: {ratio:.2f}x")


if __name__ == "__main__":
    main()
