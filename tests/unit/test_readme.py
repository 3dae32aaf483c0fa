"""The docs' state tables are the code's state tables: they cannot drift apart.

Each API's page (docs/apis/<name>.md) holds that API's table, and the README's outcome table
lists every raw state under its canonical one; both are checked against each API class's table.
"""

from __future__ import annotations

import re
from pathlib import Path

from airflow_jobs_provider.apis.registry import API_CLASSES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
API_PAGES = ROOT / "docs" / "apis"
ROW = re.compile(r"^\| (\w+) \| `([^`]+)` \| (\w+) \|$", re.MULTILINE)
CANONICAL = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")
OUTCOME_ROW = re.compile(rf"^\| (.+?) \| ({'|'.join(CANONICAL)}) \| .+ \|$", re.MULTILINE)
RAW_GROUP = re.compile(r"^(\w+) ((?:`[^`]+`(?:, )?)+)$")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)\s]*)?\)")


def documented_tables(text: str) -> dict[str, dict[str, str]]:
    documented: dict[str, dict[str, str]] = {}
    for api, raw, canonical in ROW.findall(text):
        documented.setdefault(api, {})[raw] = canonical
    return documented


def expected_table(api_class: type) -> dict[str, str]:
    return {raw: status.value for raw, status in api_class.states.items()}


def test_each_api_page_state_table_matches_its_api_table():
    for name, api_class in API_CLASSES.items():
        page = API_PAGES / f"{name}.md"
        assert page.is_file(), f"{name} has no docs page {page.relative_to(ROOT)}"
        documented = documented_tables(page.read_text())
        if not api_class.states:
            assert documented == {}, name  # the REST API's table comes from its connection
            continue
        assert documented == {name: expected_table(api_class)}, name


def test_readme_outcome_table_lists_every_raw_state_under_its_canonical_state():
    documented: dict[str, dict[str, str]] = {}
    for raw_states, canonical in OUTCOME_ROW.findall(README):
        for group in raw_states.split(" · "):
            match = RAW_GROUP.match(group)
            assert match, f"README outcome row {raw_states!r}: cannot read {group!r}"
            api, raws = match.groups()
            for raw in re.findall(r"`([^`]+)`", raws):
                assert raw not in documented.get(api, {}), (api, raw)
                documented.setdefault(api, {})[raw] = canonical
    expected = {name: expected_table(cls) for name, cls in API_CLASSES.items() if cls.states}
    assert documented == expected


TWO_COMMANDS = (
    "make demo   # bootstraps .venv, starts the embedded emulator, runs every example DAG with dag.test()",
    "make test   # bootstraps .venv, runs ruff, mypy and the whole test suite (what CI runs via .ci/run)",
)


def test_readme_and_getting_started_describe_the_two_commands():
    getting_started = (ROOT / "docs" / "getting-started.md").read_text()
    for command in TWO_COMMANDS:
        assert command in README
        assert command in getting_started


def test_readme_links_point_at_files_that_exist():
    links = [target for target in LINK.findall(README) if "://" not in target]
    assert links, "the README links to the docs"
    for target in links:
        assert (ROOT / target).exists(), f"README links to {target}, which does not exist"


SOURCE_NAME = re.compile(r"`([A-Za-z0-9_./-]+\.(?:py|yaml|yml|toml|json|txt))`")


def test_the_docs_name_only_files_that_exist():
    """A module that moved leaves no stale name behind: every file a page names in backticks exists."""
    tracked = [path.relative_to(ROOT).as_posix() for path in ROOT.rglob("*") if ".venv" not in path.parts]
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    named = {(page.name, name) for page in pages for name in SOURCE_NAME.findall(page.read_text())}
    assert len(named) > 20, "the check reads the pages"
    stale = sorted(
        (page, name) for page, name in named
        if not any(path == name or path.endswith("/" + name.lstrip("./")) for path in tracked)
    )
    assert not stale, f"pages name files that do not exist (moved or renamed?): {stale}"
