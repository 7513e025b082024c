"""Look at a yearly report as a reader's browser draws it: headless Chromium, a CJK font, a PNG.

    python benchmarks/report_screenshot.py REPORT.html [--out report.png] [--width 900] [--height 2400]
    python benchmarks/report_screenshot.py REPORT.xlsx [--out report.png]

A workbook is printed by LibreOffice (`soffice --headless --convert-to pdf`, Debian:
`libreoffice-calc-nogui`) and its first page, the ranking with its native Excel chart, turned into
a PNG by pdftoppm (`poppler-utils`).

Needs `chromium` and a CJK font (Debian: `apt-get install chromium fonts-noto-cjk`). Prints the PNG's
path; open it and check that the Chinese text, the ranking chart with its card line and the
category bars are drawn (no boxes where characters should be). Also renders the report to PDF
(`--pdf`), as it prints on A4.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--width", type=int, default=900)
    ap.add_argument("--height", type=int, default=2400)
    ap.add_argument("--pdf", action="store_true", help="also print it to PDF (A4, the print stylesheet)")
    args = ap.parse_args(argv)
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        print("no chromium on PATH (apt-get install chromium fonts-noto-cjk)", file=sys.stderr)
        return 2
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    if not fonts.strip():
        print("no CJK font installed (apt-get install fonts-noto-cjk): Chinese would show as boxes", file=sys.stderr)
        return 2
    report = args.report.resolve()
    out = (args.out or report.with_suffix(".png")).resolve()
    if report.suffix == ".xlsx":
        return _workbook(report, out)
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    shot = [*common, f"--window-size={args.width},{args.height}", f"--screenshot={out}", report.as_uri()]
    subprocess.run(shot, check=True, capture_output=True, timeout=120)
    print(out)
    if args.pdf:
        pdf = out.with_suffix(".pdf")
        subprocess.run(
            [*common, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri()],
            check=True,
            capture_output=True,
            timeout=120,
        )
        print(pdf)
    return 0


def _workbook(report: Path, out: Path) -> int:
    office, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if office is None or pdftoppm is None:
        print("needs soffice and pdftoppm (apt-get install libreoffice-calc-nogui poppler-utils)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [office, "--headless", "--convert-to", "pdf", "--outdir", tmp, report],
            check=True,
            capture_output=True,
            timeout=300,
        )
        (pdf,) = Path(tmp).glob("*.pdf")
        subprocess.run([pdftoppm, "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", pdf, out.with_suffix("")])
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
