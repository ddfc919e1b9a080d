"""The two editions of the site: the reader edition (_config.yml as is, solutions collapsed) and the
student edition, whose configuration is derived here from _config.yml (never copied by hand).

`PYTHONPATH=tools python -m booktools.editions OUT.yml` writes the student configuration: sphinx-exercise's
`hide_solutions` (solutions are not even parsed, so they reach no page and no search index), no
`_sources/` copies and no download button (the sources hold the solutions), the Colab buttons on
book/student/<chapter>.ipynb, and the reader build's execution cache (so no chapter is executed again).
`make book-student` builds it into _build/student/_build/html; tests/book/test_student_edition.py
then searches the whole site for every solution's text.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

from cnnbook.core.files import REPOSITORY_ROOT, atomic_write_text

LOCALE_DIR = (
    "locales"  # the gettext catalogues, relative to book/ (sphinx: locale_dirs)
)
STUDENT_BOOK_PATH = (
    "book/student"  # where the student notebooks live, relative to the repository root
)


def _section(config: dict[str, Any], key: str) -> dict[str, Any]:
    """config[key] as a dict, created when absent."""
    value = config.setdefault(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"_config.yml: `{key}:` must be a mapping")
    return value


def _absolute_local_extensions(sphinx: dict[str, Any], root: Path) -> None:
    """Local extension folders are relative to _config.yml: make them absolute for a config elsewhere."""
    local = sphinx.get("local_extensions") or {}
    sphinx["local_extensions"] = {
        name: str((root / path).resolve()) for name, path in local.items()
    }


def student_config(config: dict[str, Any], root: Path, cache: Path) -> dict[str, Any]:
    """The student edition's configuration, derived from the reader edition's _config.yml content."""
    student = copy.deepcopy(config)
    student["title"] = f"{config.get('title', 'Book')} (student edition)"
    _section(student, "repository")["path_to_book"] = STUDENT_BOOK_PATH
    _section(student, "execute")["cache"] = str(cache.resolve())
    sphinx = _section(student, "sphinx")
    _absolute_local_extensions(sphinx, root)
    sphinx["recursive_update"] = (
        True  # html_theme_options below is merged into Jupyter Book's, not replacing them
    )
    options = _section(sphinx, "config")
    options.update(
        {
            "hide_solutions": True,
            "html_copy_source": False,
            "html_show_sourcelink": False,
        }
    )
    options.setdefault("html_theme_options", {})["use_download_button"] = (
        False  # JB1 does not pass html: on
    )
    if "sphinx_exercise" not in (sphinx.get("extra_extensions") or []):
        raise ValueError(
            "_config.yml: sphinx_exercise is not in sphinx: extra_extensions"
        )
    return student


def translated_config(
    config: dict[str, Any], root: Path, language: str
) -> dict[str, Any]:
    """An edition's configuration in another language: Sphinx's `language`, the catalogues of
    book/locales and the edition's own words (title, code-cell toggles) from book/locales/<lang>/edition.yml."""
    words = read_config(root / "book" / LOCALE_DIR / language / "edition.yml")
    translated = copy.deepcopy(config)
    translated["title"] = words["title"] + (
        f" ({words['student']})"
        if config.get("title", "").endswith("(student edition)")
        else ""
    )
    translated["author"] = words.get("author", config.get("author"))
    repository = _section(translated, "repository")
    student = repository.get("path_to_book") == STUDENT_BOOK_PATH
    repository[
        "path_to_book"
    ] = (  # the Colab buttons: booktools.notebooks.notebook_path
        f"book/{LOCALE_DIR}/{language}/notebooks" + ("/student" if student else "")
    )
    sphinx = _section(translated, "sphinx")
    _absolute_local_extensions(sphinx, root)
    options = _section(sphinx, "config")
    options["language"] = language
    for key, value in (
        words.get("sphinx") or {}
    ).items():  # html_theme_options: merged, not replaced
        if isinstance(value, dict) and isinstance(options.get(key), dict):
            options[key] = {**options[key], **value}
        else:
            options[key] = value
    return translated


def read_config(path: Path) -> dict[str, Any]:
    """The reader edition's _config.yml as a dict, with a one-line error when it is not one."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(
            f"{path}: cannot read the book configuration ({exc.__class__.__name__})"
        ) from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: not a mapping of settings")
    return config


def edition_config(root: Path, student: bool, language: str | None) -> dict[str, Any]:
    """The configuration of one edition (reader or student) in one language (None: English)."""
    config = read_config(root / "_config.yml")
    cache = root / "_build" / ".jupyter_cache"
    if student:
        config = student_config(config, root, cache)
    if language:
        config = translated_config(config, root, language)
    _section(config, "execute")["cache"] = str(
        cache.resolve()
    )  # the English reader build's execution, never a second one
    _absolute_local_extensions(_section(config, "sphinx"), root)
    return config


def write_config(
    target: Path, student: bool, language: str | None, root: Path = REPOSITORY_ROOT
) -> None:
    """Write one edition's configuration derived from root/_config.yml."""
    config = edition_config(root, student, language)
    header = "# Generated by `make book` / `make book-student` (tools/booktools/editions.py) from _config.yml: do not edit.\n"
    atomic_write_text(
        target, header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    )


USAGE = "usage: PYTHONPATH=tools python -m booktools.editions OUT.yml [--student] [--language LANG]"


def main(argv: list[str] | None = None) -> int:
    """`python -m booktools.editions OUT.yml [--student] [--language ru]`: write that edition's configuration."""
    args = list(sys.argv[1:] if argv is None else argv)
    student = "--student" in args
    args = [a for a in args if a != "--student"]
    language = None
    if "--language" in args:
        at = args.index("--language")
        if at + 1 >= len(args):
            print(USAGE, file=sys.stderr)
            return 1
        language = args[at + 1]
        del args[at : at + 2]
    if len(args) != 1 or args[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 1
    try:
        write_config(Path(args[0]), student, language)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
