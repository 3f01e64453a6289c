"""Opens a `grpo report` page in headless Chromium as a person would: renders it at 1280 px and at a
phone's width, takes full-page screenshots, and fails if the page logs a JavaScript error, reaches
for the network, or has an empty plot (a figure whose SVG draws no line, band or dot).

Run by hand (needs Debian's `chromium`: `apt-get install chromium`), e.g. after `make demo`:

    python3 Scripts/check_report.py runs/demo/report.html [--screenshot docs/report.png]

Exits 1 on any failure and says which.
"""
import argparse
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile


class Figures(html.parser.HTMLParser):
    """Counts, per figure, the drawn marks in its step-axis SVG."""

    def __init__(self):
        super().__init__()
        self.figures, self.current, self.in_step = [], None, False
        self.external = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "link", "img", "iframe") and (a.get("src") or a.get("href")):
            self.external.append(f"<{tag} {a}>")
        if tag == "figure":
            self.current = {"caption": "", "marks": 0}
            self.figures.append(self.current)
        if tag == "svg" and self.current is not None and "x-step" in (a.get("class") or ""):
            self.in_step = True
        if self.in_step and tag in ("polyline", "circle", "polygon"):
            self.current["marks"] += 1

    def handle_endtag(self, tag):
        if tag == "svg":
            self.in_step = False

    def handle_data(self, data):
        if self.current is not None and not self.current["caption"]:
            self.current["caption"] = data.strip()


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    sys.exit("no chromium on PATH: apt-get install chromium")


def render(page, width, height, shot):
    out = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--enable-logging=stderr", "--v=0", f"--window-size={width},{height}",
                          f"--screenshot={shot}", "file://" + os.path.abspath(page)],
                         capture_output=True, text=True, timeout=120)
    errors = [l for l in out.stderr.splitlines() if "CONSOLE" in l and ("Uncaught" in l or "Error" in l)]
    return out.returncode, errors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("page")
    p.add_argument("--screenshot", help="keep the 1280 px screenshot here (PNG)")
    args = p.parse_args()
    text = open(args.page, encoding="utf-8").read()
    parser = Figures()
    parser.feed(text)
    failures = []
    if not parser.figures:
        failures.append("no plots at all")
    for f in parser.figures:
        if f["marks"] == 0:
            failures.append(f"empty plot: {f['caption']}")
    failures += [f"external resource: {e}" for e in parser.external]
    if re.search(r"https?://", re.sub(r"<svg[^>]*>", "", text)):
        failures.append("the page names a network address")
    tmp = tempfile.mkdtemp()
    for width, height in ((1280, 2400), (390, 5000)):
        shot = os.path.join(tmp, f"report-{width}.png")
        code, errors = render(args.page, width, height, shot)
        if code != 0 or not os.path.exists(shot):
            failures.append(f"chromium failed at {width} px (exit {code})")
        failures += [f"JavaScript error at {width} px: {e}" for e in errors]
        if width == 1280 and args.screenshot and os.path.exists(shot):
            shutil.copy(shot, args.screenshot)
    print(f"{args.page}: {len(parser.figures)} plots, " + (", ".join(failures) if failures else "no JavaScript errors, no empty plot"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
