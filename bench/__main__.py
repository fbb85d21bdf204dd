"""``.venv/bin/python -m bench [--quick] [--only closeloop,ceiling,...]`` — see bench/options.py.

SIGTERM is turned into the same cancellation as Ctrl-C, so every started process is stopped on
the way out; children also die with this process (PR_SET_PDEATHSIG) if it is killed outright.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from rich.console import Console

from bench.options import Options, parse
from bench.report import render, write_json
from bench.run import run


async def _main(options: Options, console: Console) -> int:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    results = await run(options, console)
    write_json(results, options.json_path)
    render(results, console)
    console.print(f"[dim]results: {options.json_path}[/]")
    return 0


def main() -> int:
    options, console = parse(), Console()
    if not console.is_terminal:  # piped or logged: do not squeeze the table into 80 columns
        console = Console(width=160)
    try:
        return asyncio.run(_main(options, console))
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print("[yellow]interrupted; every process the benchmark started has been stopped[/]")
        return 130


if __name__ == "__main__":
    sys.exit(main())
