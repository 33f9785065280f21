"""Every CLI command and option is documented, in --help and in the README."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main
from typer.testing import CliRunner

from critmin.cli.main import app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _commands() -> list[tuple[str, Any]]:
    """Every leaf command of the app (typer vendors click, so its classes are duck-typed here)."""
    root = typer.main.get_command(app)
    found: list[tuple[str, Any]] = []

    def walk(prefix: str, command: Any) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(f"{prefix} {name}".strip(), sub)
        else:
            found.append((prefix, command))

    walk("", root)
    return found


def test_every_command_and_option_has_help() -> None:
    missing = []
    for name, command in _commands():
        if not (command.help or "").strip():
            missing.append(name)
        for param in command.params:
            is_option = getattr(param, "param_type_name", "") == "option"
            if is_option and not (getattr(param, "help", "") or "").strip():
                missing.append(f"{name} {param.opts[0]}")
    assert missing == []


def test_every_command_is_in_the_readme() -> None:
    absent = [name for name, _ in _commands() if f"critmin {name}" not in README]
    assert absent == []


def test_help_runs_for_every_command() -> None:
    runner = CliRunner()
    for name, _ in _commands():
        result = runner.invoke(app, [*name.split(), "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert re.search(r"Usage: .*" + name.split()[-1], result.output), name
