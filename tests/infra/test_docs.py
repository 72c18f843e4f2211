"""The documentation: generated parts up to date with their sources, every link resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pigeon_tools import docs
from pigeon_tools.paths import ROOT

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
PAGES = sorted(
    [
        ROOT / "README.md",
        ROOT / "CHANGELOG.md",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "terraform").rglob("README.md"),
    ]
)


def test_generated_docs_are_up_to_date():
    stale = [str(p.relative_to(ROOT)) for p in docs.stale(write=False)]
    assert stale == [], "run make docs"


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.MULTILINE)
    return {anchor(h) for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(page):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)  # not code samples
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target} does not exist"
        if fragment:
            assert fragment in anchors(linked), f"{page.name}: no heading #{fragment} in {path}"


def test_the_readme_stays_short_and_maps_every_doc():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 220
    for doc in (ROOT / "docs").glob("*.md"):
        assert f"docs/{doc.name}" in readme, f"the README's map lacks {doc.name}"


TOOL_VARIABLE = re.compile(r"\bPIGEONTOOLS_[A-Z0-9_]*[A-Z0-9]\b")


def tool_variables_in(*places: str) -> dict[str, set[str]]:
    """Each PIGEONTOOLS_ name in the files under these places: the files naming it."""
    found: dict[str, set[str]] = {}
    for place in places:
        path = ROOT / place
        for file in [path] if path.is_file() else path.rglob("*"):
            if not file.is_file() or "__pycache__" in file.parts or file.name == "variables.py":
                continue
            try:
                text = file.read_text()
            except UnicodeDecodeError:
                continue
            for name in TOOL_VARIABLE.findall(text):
                found.setdefault(name, set()).add(str(file.relative_to(ROOT)))
    return found


def test_every_tools_variable_is_declared_once_and_read():
    """scripts/pigeon_tools/variables.py declares each PIGEONTOOLS_ name the tools, the Makefile,
    docker-compose.yml, the tests and the docs use; each it declares is used."""
    from pigeon_tools.variables import NAMES, VARIABLES

    assert len(NAMES) == len(VARIABLES), "a variable declared twice"
    used = tool_variables_in("scripts", "Makefile", "docker-compose.yml", "tests", "docs")
    undeclared = {name: sorted(files) for name, files in used.items() if name not in NAMES}
    assert not undeclared, f"declare these in scripts/pigeon_tools/variables.py: {undeclared}"
    read = tool_variables_in("scripts", "Makefile", "docker-compose.yml", "tests")
    assert not NAMES - set(read), f"declared, read nowhere: {sorted(NAMES - set(read))}"
