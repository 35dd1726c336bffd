"""Compile the message catalogs (``.po`` → ``.mo``): ``python -m scheduler.i18n.compile``.

Run by ``make`` (before the tests and the demo) and by the package build (``setup.py``), so an
installed exsched always carries compiled catalogs. Refuses a catalog with errors, naming them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SOURCE = Path(__file__).with_name("catalogs")


def compile_catalogs(source: Path = SOURCE, target: Path | None = None) -> list[Path]:
    """Write ``<target>/<locale>/LC_MESSAGES/exsched.mo`` for every ``.po`` under ``source``."""
    written = []
    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parts[-3], abort_invalid=True)
        problems = [f"{po}: {msg.id!r}: {err}" for msg, errors in catalog.check() for err in errors]
        if problems:
            raise SystemExit("catalog errors:\n" + "\n".join(problems))
        mo = (target or source) / po.relative_to(source).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        written.append(mo)
    return written


if __name__ == "__main__":
    for path in compile_catalogs(target=Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(f"compiled {path}")
