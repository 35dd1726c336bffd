"""Compile the message catalogs as part of every build (wheel, sdist install, editable install).

Everything else about the package is in pyproject.toml; this file only adds one step to
``build_py``: ``.po`` → ``.mo`` with Babel, into the build (or, for an editable install, next to
the ``.po`` files in the source tree).
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGS = Path("scheduler") / "i18n" / "catalogs"


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        target = CATALOGS if getattr(self, "editable_mode", False) else Path(self.build_lib) / CATALOGS
        for po in sorted(CATALOGS.glob("*/LC_MESSAGES/*.po")):
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=po.parts[-3], abort_invalid=True)
            mo = target / po.relative_to(CATALOGS).with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with mo.open("wb") as handle:
                write_mo(handle, catalog)


setup(cmdclass={"build_py": BuildWithCatalogs})
