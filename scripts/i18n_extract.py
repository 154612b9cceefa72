"""Collect the UI's Chinese msgids (templates and Python) and merge them into the English catalogue.

uv run python scripts/i18n_extract.py          # update guardline/locale/en/LC_MESSAGES/django.po
uv run python scripts/i18n_extract.py --check  # exit 1 listing msgids without an English translation
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "guardline" / "locale" / "en" / "LC_MESSAGES" / "django.po"
TEMPLATE_RE = re.compile(r"""\{%\s*trans\s+(["'])(.+?)\1""")
PY_RE = re.compile(r"""(?<![\w.])(?:_|gettext_lazy|gettext|gettext_noop)\(\s*(["'])(.+?)\1\s*[,)]""")
# Label tables of the pure modules (no Django there, so no gettext): `STATE_LABELS = {State.X: "待入户核实", …}`.
# Their values reach the pages through `{% trans label %}` and are collected here as msgids.
LABELS_RE = re.compile(r"""^[A-Z_]*_LABELS\b[^=\n]*=\s*\{([^}]*)\}""", re.MULTILINE)
LABEL_VALUE_RE = re.compile(r""":\s*(["'])(.+?)\1""")


def msgids() -> list[str]:
    found: dict[str, None] = {}
    for path in sorted((ROOT / "guardline").rglob("*.html")):
        for m in TEMPLATE_RE.finditer(path.read_text(encoding="utf-8")):
            found[m.group(2)] = None
    for path in sorted((ROOT / "guardline").rglob("*.py")):
        if "migrations" in path.parts or "tests" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for m in PY_RE.finditer(text):
            found[m.group(2)] = None
        for table in LABELS_RE.finditer(text):
            for m in LABEL_VALUE_RE.finditer(table.group(1)):
                found[m.group(2)] = None
    return [m for m in found if re.search(r"[\u4e00-\u9fff]", m)]


def _unquote(s: str) -> str:
    return s[1:-1].replace('\\"', '"').replace("\\\\", "\\")


def read_po(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    if not path.exists():
        return entries
    msgid = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            msgid = _unquote(line[6:])
        elif line.startswith("msgstr ") and msgid is not None:
            if msgid:
                entries[msgid] = _unquote(line[7:])
            msgid = None
    return entries


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_po(path: Path, entries: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', '"Language: en\\n"', ""]
    for msgid, msgstr in entries.items():
        lines += [f"msgid {_quote(msgid)}", f"msgstr {_quote(msgstr)}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    existing = read_po(PO)
    wanted = msgids()
    missing = [m for m in wanted if not existing.get(m)]
    if args.check:
        if missing:
            print("untranslated:", *missing, sep="\n  ")
            sys.exit(1)
        return
    write_po(PO, {m: existing.get(m, "") for m in wanted})
    print(f"{len(wanted)} msgids, {len(missing)} without translation")


if __name__ == "__main__":
    main()
