"""Small helpers shared by the management commands (output only; no domain logic)."""

import json
import sys
from collections.abc import Callable

from django.core.checks import Tags
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

# The system checks a data command (import, report, units, user, rollup, generate) runs before
# it starts: all but the URL checks, which import every view and build the API (0.5 of the 2.2
# seconds such a command took to start) for a command that serves no page. `gocua serve` and
# `gocua migrate` still run every check.
DATA_COMMAND_CHECKS = [
    tag for name, tag in vars(Tags).items() if not name.startswith("_") and tag != Tags.urls
]


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


def stderr_progress(label: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A rich progress line on stderr: (advance(rows_done), stop())."""
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
