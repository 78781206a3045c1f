#!/usr/bin/env bash
# Regenerate the shell completion scripts from the installed `usms` (run from the repo root).
# Uses Typer's completion variable, which prints the named shell's script deterministically
# (`usms --show-completion SHELL` prints the *detected* shell's script instead).
set -euo pipefail
cd "$(dirname "$0")"
USMS="${USMS:-usms}"
_USMS_COMPLETE=source_bash "$USMS" | sed '/./,$!d' > usms.bash
_USMS_COMPLETE=source_zsh "$USMS" | sed '/./,$!d' > _usms
_USMS_COMPLETE=source_fish "$USMS" | sed '/./,$!d' > usms.fish
echo "wrote completions/usms.bash completions/_usms completions/usms.fish"
