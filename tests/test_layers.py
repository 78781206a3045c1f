"""The architecture as a checked rule: each layer of usms_cli imports only the layers below it,
and the pure core imports no I/O library (README "How it is built")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "usms_cli"

# layer -> the layers it may import (besides itself and the package root's __version__)
# (``i18n``, the message catalog, is stdlib only and below every layer: all of them speak.)
ALLOWED: dict[str, set[str]] = {
    "i18n": set(),
    "core": {"i18n"},
    "engine": {"core", "i18n"},
    "output": {"core", "i18n"},
    "sandbox": {"core", "i18n"},
    "app": {"core", "engine", "output", "sandbox", "i18n"},
    "cli": {"core", "engine", "output", "sandbox", "app", "i18n"},
    "__main__": {"cli", "core", "i18n"},
}
# third-party libraries and the only layers that may import them
LIBRARIES: dict[str, set[str]] = {
    "typer": {"cli"},
    "click": {"cli"},
    "requests": {"engine"},
    "urllib3": {"engine"},
    "rich": {"output", "sandbox"},  # the sandbox draws its own inbox in a terminal
    "dotenv": {"engine"},
}


def _layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, at any depth (function-level and TYPE_CHECKING too)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "usms_cli":
                found += [(node.lineno, f"usms_cli.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_module_is_in_a_known_layer() -> None:
    layers = {_layer(p) for p in MODULES}
    assert layers <= set(ALLOWED), f"modules outside the layers: {layers - set(ALLOWED)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_layer_imports_only_the_layers_below_it(path: Path) -> None:
    layer = _layer(path)
    broken = []
    for line, module in _imports(path):
        top = module.split(".")[0]
        if top == "usms_cli":
            parts = module.split(".")
            target = parts[1] if len(parts) > 1 else "__init__"
            if target in ("__version__", "__init__") or target == layer:
                continue
            if target not in ALLOWED[layer]:
                broken.append(f"line {line}: {layer} imports {module}")
        elif top in LIBRARIES and layer not in LIBRARIES[top]:
            broken.append(f"line {line}: {layer} imports {module}")
    assert not broken, "\n".join(broken)


def test_the_core_does_no_io() -> None:
    """core/ neither opens files nor reads the environment: its callers pass what it needs."""
    offenders = []
    for path in (PACKAGE / "core").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("open(", "os.environ", "sys.stdin", "sys.stdout", "subprocess", "socket"):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
    assert not offenders, offenders


def test_every_module_says_what_it_owns_and_stays_readable() -> None:
    """A docstring on every module; no module over 500 lines unless it says why."""
    problems = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if not ast.get_docstring(ast.parse(text)):
            problems.append(f"{path.relative_to(PACKAGE)}: no module docstring")
        if text.count("\n") > 500 and "# long module:" not in text:
            problems.append(f"{path.relative_to(PACKAGE)}: {text.count(chr(10))} lines")
    assert not problems, problems


def test_functions_are_short_or_say_why() -> None:
    """No function over 80 lines, unless a ``# long function:`` comment in it says why."""
    long = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = lines[node.lineno - 1 : node.end_lineno]
                if len(body) > 80 and not any("# long function:" in line for line in body):
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}")
    assert not long, long
