"""`make book`, before Jupyter Book runs: execute the chapters whose cached outputs are missing, two at a time.

Jupyter Book 1 executes the chapters one after the other while Sphinx reads them, so a 2-core
machine waits on one kernel at a time. This script puts the chapters into Jupyter Book's own
execution cache (_build/.jupyter_cache) first, with jupyter-cache's `local-parallel` executor (one
process per core) and myst-nb's reader plugin (`myst_nb_md`): the reader and the hash myst-nb itself
uses, so `jupyter-book build` then finds each chapter cached ("Using cached notebook") and executes
nothing. A chapter whose code has not changed since its last execution is not run again. A chapter
that fails here is left uncached: Jupyter Book executes it itself and reports the error as usual.

Usage: python tools/execute_chapters.py [BUILD_DIR]   (default _build; exit code 0 unless the cache
cannot be opened)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
READER = {"name": "myst_nb_md", "type": "plugin"}


def chapters(book_dir: Path) -> list[Path]:
    """The pages of book/_toc.yml that are notebooks (MyST Markdown with a kernelspec)."""
    from myst_nb.core.read import is_myst_markdown_notebook

    toc = yaml.safe_load((book_dir / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"], *(entry["file"] for entry in toc.get("chapters", []))]
    paths = [book_dir / f"{name}.md" for name in names]
    return [
        p
        for p in paths
        if p.is_file() and is_myst_markdown_notebook(p.read_text(encoding="utf-8"))
    ]


def longest_first(cache, paths: list[Path]) -> list[Path]:
    """The chapters ordered by their last execution time (longest first; never run: by size)."""
    seconds = {
        record.uri: (record.data or {}).get("execution_seconds", 0.0)
        for record in cache.list_cache_records()
    }
    return sorted(
        paths, key=lambda p: (seconds.get(str(p), 0.0), p.stat().st_size), reverse=True
    )


def execute(build_dir: Path, timeout: int, book_dir: Path = ROOT / "book") -> int:
    """Execute every chapter without a cache match into build_dir's cache; return how many failed."""
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    cache = get_cache(str(build_dir / ".jupyter_cache"))
    paths = longest_first(cache, chapters(book_dir))
    for record in cache.list_project_records(filter_uris=[str(p) for p in paths]):
        cache.remove_nb_from_project(
            record.pk
        )  # added again below: the project's order is the pool's
    records = [cache.add_nb_to_project(str(path), read_data=READER) for path in paths]
    stale = cache.list_unexecuted(filter_pks=[r.pk for r in records])
    if not stale:
        print("execute-chapters: every chapter is cached")
        return 0
    print(
        f"execute-chapters: {len(stale)} of {len(records)} chapters to execute, two at a time: "
        + ", ".join(Path(r.uri).stem for r in stale),
        flush=True,
    )
    started = time.perf_counter()
    result = load_executor("local-parallel", cache=cache).run_and_cache(
        filter_pks=[r.pk for r in stale], timeout=timeout, allow_errors=False
    )
    failed = [*result.excepted, *result.errored]
    print(
        f"execute-chapters: {len(result.succeeded)} executed in {time.perf_counter() - started:.0f} s"
        + (
            f"; failed here, left to jupyter-book: {', '.join(Path(u).stem for u in failed)}"
            if failed
            else ""
        )
    )
    return len(failed)


def main(argv: list[str] | None = None) -> int:
    """Run the chapters into the cache of the build folder given (default _build)."""
    args = sys.argv[1:] if argv is None else argv
    build_dir = Path(args[0]) if args else ROOT / "_build"
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    timeout = int(config.get("execute", {}).get("timeout", 900))
    execute(build_dir, timeout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
