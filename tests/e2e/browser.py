"""A headless browser on the deployment's UI: Playwright driving Debian's chromium.

Playwright's own browser download needs the internet, so the browser is the distribution's
(``apt-get install chromium``; ``make test-e2e`` installs it and the ``playwright`` package when
missing). Every screenshot goes through ``Screens.shoot``, which also reads the page's DOM text
and markup and fails if a secret is in either: what a screenshot can show, a user can see.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

CHROMIUM = os.environ.get("JOBS_E2E_CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1400, "height": 900}
UI_TIMEOUT_MS = 60_000
"""Bound for one UI step (a page load, a click's effect); they take 0.5-5 s on 2 busy cores."""


@contextmanager
def chromium() -> Iterator[BrowserContext]:
    """A fresh headless browser context (no cookies), closed with its browser at the end."""
    if shutil.which(CHROMIUM) is None:
        raise RuntimeError(f"no chromium at {CHROMIUM}: `make test-e2e` installs Debian's (apt-get install chromium)")
    from playwright.sync_api import sync_playwright  # only the browser tests need it

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
            context.set_default_timeout(UI_TIMEOUT_MS)
            yield context
        finally:
            browser.close()


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Fill in the SimpleAuthManager's login form on ``page``, as a user does; returns on the home page."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url.rstrip('/')}/")


class Screens:
    """Screenshots into one folder, each with a secret scan of the page it shows."""

    def __init__(self, folder: Path, secrets: Iterable[str]) -> None:
        self.folder = folder
        self.secrets = tuple(secret for secret in secrets if secret)
        self.taken: list[Path] = []
        folder.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def on_failure(self, page: Page, name: str) -> Iterator[None]:
        """Screenshot ``page`` as ``<name>-failed.png`` when the block fails, then let the failure through."""
        try:
            yield
        except Exception:
            self.shoot_failure(page, name)
            raise

    def shoot_failure(self, page: Page, name: str) -> None:
        """``<name>-failed.png``, if the page can still be shot: the failure at hand matters more."""
        with suppress(Exception):
            self.shoot(page, f"{name}-failed")

    def shoot(self, page: Page, name: str, **options: Any) -> Path:
        """Save ``<name>.png`` and fail if a secret is in the page's visible text or its markup."""
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path), **options)
        self.taken.append(path)
        text, markup = page.inner_text("body"), page.content()
        for secret in self.secrets:  # no bare assert: pytest would print the secret in its report
            if secret in text or secret in markup:
                where = "text" if secret in text else "markup"
                raise AssertionError(f"a secret is in the {where} of the page of {path.name}")
        return path
