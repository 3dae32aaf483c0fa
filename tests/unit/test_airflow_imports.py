"""The provider, its example DAGs and the test DAGs import Airflow only in ways 2.11 and 3.x share.

``make test`` runs on both versions, but a stray ``from airflow.sdk import DAG`` in a new DAG file
fails only in the 2.11 pass, after the 3.3 pass spent its time; this check fails at once, on both.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKED = [
    *sorted((ROOT / "airflow_jobs_provider").rglob("*.py")),
    *sorted((ROOT / "example_dags").glob("*.py")),
    *sorted((ROOT / "tests" / "dags").glob("*.py")),
]
# airflow.providers.common.compat picks the Airflow 3 Task SDK or the Airflow 2 path itself;
# airflow.triggers.base exists in both; `airflow` itself only for __version__ (version_compat.py).
# airflow.providers.openlineage is the optional [openlineage] provider's own API (lineage/), one
# package for every Airflow version it supports.
ALLOWED_PREFIXES = ("airflow.providers.common.compat", "airflow.triggers.base", "airflow.providers.openlineage")


def airflow_imports(path: Path) -> list[tuple[int, str]]:
    """Airflow imports outside a version guard (``if AIRFLOW_V_3_0_PLUS:`` from version_compat.py)."""
    found: list[tuple[int, str]] = []
    _collect(ast.parse(path.read_text(), str(path)), found)
    return [(line, module) for line, module in found if module == "airflow" or module.startswith("airflow.")]


def _collect(node: ast.AST, found: list[tuple[int, str]]) -> None:
    if isinstance(node, ast.If) and _is_version_guard(node.test):
        return  # each branch runs only on the versions it was written for
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        found.append((node.lineno, node.module))
    elif isinstance(node, ast.Import):
        found.extend((node.lineno, alias.name) for alias in node.names)
    for child in ast.iter_child_nodes(node):
        _collect(child, found)


def _is_version_guard(test: ast.expr) -> bool:
    return any(isinstance(name, ast.Name) and name.id.startswith("AIRFLOW_V_") for name in ast.walk(test))


def test_the_check_sees_the_files():
    assert len(CHECKED) > 20
    assert any(path.parent.name == "example_dags" for path in CHECKED)


@pytest.mark.parametrize("path", CHECKED, ids=lambda path: str(path.relative_to(ROOT)))
def test_airflow_is_imported_through_common_compat(path):
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for line, module in airflow_imports(path)
        if not module.startswith(ALLOWED_PREFIXES) and not (module == "airflow" and path.name == "version_compat.py")
    ]
    assert not wrong, (
        "import these through airflow.providers.common.compat.sdk (e.g. `from airflow.providers.common.compat.sdk"
        " import DAG`), which works on Airflow 2.11 and 3.x; version checks go in "
        "airflow_jobs_provider/version_compat.py:\n"
        + "\n".join(wrong)
    )
