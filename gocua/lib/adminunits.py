"""The official unit tables of `vietnamadminunits`, without the rest of the package.

GõCửa reads only the library's unit database (`vietnamadminunits.database.query`). Importing
that submodule runs the package's `__init__`, which builds the library's address parsers and
converter: two JSON dictionaries, regexes over every ward name, shapely, and geopy with its HTTP
stack. That took 0.8 of the 3 seconds a `gocua` command needed to start, and every command paid
it, because the national-ID rules (gocua.lib.nid) are imported with the logging set-up.

So the library's own `database/main.py` is loaded here on its own, from where the installed
package keeps it: the same function and the same data file, without the parsers.
"""

import importlib.util
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

# A row of the library's tables: its column names (provinceCode, wardName…) to their values.
UnitRow = dict[str, Any]


@cache
def _library_query() -> Callable[[str], list[UnitRow]]:
    package = importlib.util.find_spec("vietnamadminunits")  # finds it, runs nothing
    if package is None or not package.submodule_search_locations:
        raise ImportError("vietnamadminunits is not installed")
    path = Path(next(iter(package.submodule_search_locations))) / "database" / "main.py"
    spec = importlib.util.spec_from_file_location("gocua_vietnamadminunits_database", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"vietnamadminunits has no database module at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: Callable[[str], list[UnitRow]] = module.query
    return found


def query(sql: str) -> list[UnitRow]:
    """`vietnamadminunits.database.query`: rows of the library's SQLite dataset as dicts
    (tables `admin_units_legacy`, the 2023 edition, and `admin_units`, the 2025 edition)."""
    return _library_query()(sql)
