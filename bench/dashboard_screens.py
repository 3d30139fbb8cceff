"""Screenshots of the dashboards (docs/screenshots/dashboard-*.png) with Playwright driving
Debian's chromium (never a downloaded browser), against a server you started yourself:

    gocua serve --host 127.0.0.1 --port 8766 --workers 1      # on generated data
    .venv/bin/python bench/dashboard_screens.py --base http://127.0.0.1:8766 \\
        --user tinh --password ... --pages 72,703 [--commune-user xa --commune-password ...]

Each page is shot full length at 1280 px wide, and once at phone width (390 px).
"""

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def login(page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_load_state("networkidle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8766")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--edition", default="2023")
    parser.add_argument("--pages", default="72,703", help="unit codes, comma-separated")
    parser.add_argument("--phone", default="", help="unit code to shoot at phone width too")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        login(page, args.base, args.user, args.password)
        for code in args.pages.split(","):
            page.goto(f"{args.base}/dashboard/{args.edition}/{code}/")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=OUT / f"dashboard-{code}.png", full_page=True)
            print("wrote", OUT / f"dashboard-{code}.png")
        code = args.pages.split(",")[0]
        page.goto(f"{args.base}/reconciliation/{args.edition}/{code}/")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=OUT / f"dashboard-reconciliation-{code}.png", full_page=True)
        print("wrote", OUT / f"dashboard-reconciliation-{code}.png")
        if args.phone:
            phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN",
                                        device_scale_factor=2)  # fmt: skip
            page = phone.new_page()
            login(page, args.base, args.user, args.password)
            page.goto(f"{args.base}/dashboard/{args.edition}/{args.phone}/")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=OUT / f"dashboard-{args.phone}-phone.png", full_page=False)
            print("wrote", OUT / f"dashboard-{args.phone}-phone.png")
        if errors:
            print("console errors (CSP?):", *errors, sep="\n  ")
        browser.close()


if __name__ == "__main__":
    main()
