"""Small helpers shared by the management commands (output only; no domain logic)."""

import json
import sys
from collections.abc import Callable

from django.core.management.base import CommandError

from gocua.geo.selectors import EditionError, resolve_edition


def edition_or_stop(requested: int | None) -> int:
    try:
        return resolve_edition(requested)
    except EditionError as exc:
        raise CommandError(str(exc), returncode=2) from None


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


def stderr_progress(label: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A rich progress line on stderr: (advance(rows_done), stop())."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=not console.is_terminal,
    )
    task = progress.add_task(label, total=None)
    progress.start()

    def advance(done: int) -> None:
        progress.update(task, completed=done)

    return advance, progress.stop
