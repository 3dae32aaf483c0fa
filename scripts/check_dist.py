"""Check what ``make dist`` built: a wheel users can install as it is, and an sdist that builds it.

``python scripts/check_dist.py dist`` fails (exit 1, one line per problem) when the wheel misses a
module of the source package, ``py.typed``, the provider entry point or the ``jobs-emulator``
script, carries files that are not the package's (tests, DAGs), or disagrees with
``pyproject.toml`` on the version; or when the sdist misses what a build from it needs.
Stdlib only: it runs in the small ``.venv-dist``.
"""

from __future__ import annotations

import configparser
import sys
import tarfile
import zipfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "airflow_jobs_provider"
ENTRY_POINTS = {
    "apache_airflow_provider": {"provider_info": f"{PACKAGE}.get_provider_info:get_provider_info"},
    "console_scripts": {"jobs-emulator": f"{PACKAGE}.emulator.__main__:main"},
}
SDIST_FILES = ("pyproject.toml", "README.md", f"{PACKAGE}/py.typed", f"{PACKAGE}/emulator/__main__.py")


def source_modules() -> set[str]:
    """Every file the package consists of in the source tree (modules and py.typed)."""
    files = {*(ROOT / PACKAGE).rglob("*.py"), ROOT / PACKAGE / "py.typed"}
    return {path.relative_to(ROOT).as_posix() for path in files if "__pycache__" not in path.parts}


def check_wheel(wheel: Path, version: str) -> list[str]:
    problems = []
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = f"{PACKAGE}-{version}.dist-info"
        missing = sorted(source_modules() - names)
        problems += [f"wheel lacks {name}" for name in missing]
        strays = sorted(name for name in names if not name.startswith((f"{PACKAGE}/", f"{dist_info}/")))
        problems += [f"wheel carries a file outside the package: {name}" for name in strays]
        if f"{dist_info}/entry_points.txt" not in names:
            return [*problems, f"wheel has no {dist_info}/entry_points.txt"]
        entry_points = configparser.ConfigParser(delimiters=("=",))
        entry_points.optionxform = str  # type: ignore[assignment,method-assign]  # keep names as written
        entry_points.read_string(archive.read(f"{dist_info}/entry_points.txt").decode())
        for group, wanted in ENTRY_POINTS.items():
            for name, target in wanted.items():
                found = entry_points.get(group, name, fallback=None)
                if found != target:
                    problems.append(f"entry point [{group}] {name} is {found!r}, expected {target!r}")
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        if f"\nVersion: {version}\n" not in metadata:
            problems.append(f"wheel METADATA does not say Version: {version}")
    return problems


def check_sdist(sdist: Path, version: str) -> list[str]:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    return [f"sdist lacks {name}" for name in SDIST_FILES if name not in names]


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else "dist")
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    wheels = sorted(folder.glob(f"{PACKAGE}-{version}-*.whl"))
    sdists = sorted(folder.glob(f"{PACKAGE.replace('_', '-')}-{version}.tar.gz")) or sorted(
        folder.glob(f"{PACKAGE}-{version}.tar.gz")
    )
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"expected one wheel and one sdist of {version} in {folder}, found {wheels + sdists}")
        return 1
    problems = check_wheel(wheels[0], version) + check_sdist(sdists[0], version)
    for problem in problems:
        print(problem)
    if not problems:
        with zipfile.ZipFile(wheels[0]) as archive:
            count = len(archive.namelist())
        size = wheels[0].stat().st_size
        print(f"{wheels[0].name}: {size / 1024:.0f} KiB, {count} files; py.typed, entry points, every module")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
