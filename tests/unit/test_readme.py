"""The README's state table is the code's state table: they cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

from airflow_jobs_provider.apis.registry import API_CLASSES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
ROW = re.compile(r"^\| (\w+) \| `([^`]+)` \| (\w+) \|$", re.MULTILINE)


def test_readme_state_table_matches_every_api_table():
    documented: dict[str, dict[str, str]] = {}
    for api, raw, canonical in ROW.findall(README):
        documented.setdefault(api, {})[raw] = canonical
    for name, api_class in API_CLASSES.items():
        if not api_class.states:
            continue  # the REST API's table comes from its connection
        expected = {raw: status.value for raw, status in api_class.states.items()}
        assert documented.get(name) == expected, name
