"""What the browser tests share: Debian's chromium (never a downloaded browser), its flags,
the two window sizes pages are judged at, and where screenshots go.

The `browser` fixture itself is in the root conftest.py. Set GOCUA_SCREENSHOTS=docs/screenshots
to save the screenshots the README and docs show."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

# `make test` installs chromium with apt-get, so this only ever skips a bare `pytest` run.
needs_chromium = pytest.mark.skipif(
    not shutil.which(CHROMIUM), reason="Debian's chromium is missing: apt-get install chromium"
)


def shoot(page, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot of `page` as `<name>.png` when GOCUA_SCREENSHOTS names a folder."""
    folder = os.environ.get("GOCUA_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)
