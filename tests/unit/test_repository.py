"""The repository itself: no merge left half done."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)
TEXT = {".py", ".md", ".toml", ".yml", ".yaml", ".txt", ".html", ".js", ".css", ".ini", ".cfg"}


def test_no_file_keeps_merge_conflict_markers():
    skip = {".git", ".venv", "node_modules", "test-artifacts", ".l2c", "__pycache__"}
    found = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*")
        if path.suffix in TEXT
        and path.is_file()
        and not skip.intersection(path.relative_to(ROOT).parts)
        and MARKER.search(path.read_text(errors="replace"))
    ]
    assert found == []
