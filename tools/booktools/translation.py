"""The translated editions' catalogues: update them from the English chapters, check them (issue 19).

`PYTHONPATH=tools python -m booktools.translation update` (`make locale`): Sphinx's gettext builder
extracts every sentence of the executed chapters (from the reader build's execution cache, so it
needs `make book` first and executes nothing) into _build/gettext, then sphinx-intl merges them into
book/locales/<lang>/LC_MESSAGES/<page>.po: a new sentence arrives untranslated, a changed one fuzzy.
Messages with no words (a formula, a number) are filled with themselves.

`... check`: every message translated and none fuzzy, and each translation keeps the markup of its
English message (the same glue keys, cross-references, citations and formulas, as often); a problem is
one line naming the page and the sentence, and the exit code is 1. `make test` and `make check-book`
run it (tests/book/test_translation.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from cnnbook.core.files import REPOSITORY_ROOT, atomic_write_text

LANGUAGES = ("ru",)
LOCALES = REPOSITORY_ROOT / "book" / "locales"
ASSIGNMENTS = REPOSITORY_ROOT / "assignments"  # the otter masters (jupytext py:percent)
ASSIGNMENT_DOMAIN = "assignments"  # their catalogues: LC_MESSAGES/assignments/<name>.po
POT_DIR = REPOSITORY_ROOT / "_build" / "gettext"
ROLE = re.compile(r"\{(?P<name>[a-z:]+)\}`(?P<body>[^`]*)`")
MATH = re.compile(r"\$\$?[^$]+\$\$?")
WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Problem:
    """One catalogue entry that would reach a page wrongly."""

    page: str
    message: str
    what: str

    def __str__(self) -> str:
        short = self.message if len(self.message) <= 100 else self.message[:97] + "..."
        return f"{self.page}: {self.what}: {short!r}"


def role_targets(text: str) -> Counter:
    """The markup a translation must keep: each role's target (glue key, label, citation) and formula."""
    targets = Counter()
    for match in ROLE.finditer(text):
        body = match["body"]
        target = (
            body[body.rfind("<") + 1 : -1]
            if body.endswith(">") and "<" in body
            else body
        )
        targets[f"{{{match['name']}}}`{target}`"] += 1
    targets.update(MATH.findall(ROLE.sub("", text)))
    return targets


def needs_words(message: str) -> bool:
    """Whether a message has words to translate (not only a formula, code or a number)."""
    rest = MATH.sub("", re.sub(r"`[^`]*`", "", ROLE.sub("", message)))
    rest = re.sub(
        r"\\[A-Za-z]+", "", rest
    )  # TeX commands: a display formula's msgid has no $
    return bool(WORD.search(rest))


def catalogue_problems(po: Path) -> list[Problem]:
    """The untranslated, fuzzy and markup-changing entries of one catalogue."""
    with po.open("rb") as f:
        catalog = read_po(f)
    page = po.stem
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if not message.string:
            problems.append(Problem(page, message.id, "untranslated"))
        elif message.fuzzy:
            problems.append(
                Problem(
                    page,
                    message.id,
                    "fuzzy (the English changed: update the translation)",
                )
            )
        else:
            missing = role_targets(message.id) - role_targets(message.string)
            extra = role_targets(message.string) - role_targets(message.id)
            if missing or extra:
                problems.append(
                    Problem(
                        page,
                        message.id,
                        f"markup differs (missing {sorted(missing)}, extra {sorted(extra)})",
                    )
                )
    return problems


def check(
    languages: tuple[str, ...] = LANGUAGES, locales: Path = LOCALES
) -> list[Problem]:
    """Every problem of every language's catalogues."""
    problems = []
    for language in languages:
        folder = locales / language / "LC_MESSAGES"
        catalogues = sorted(folder.glob("**/*.po"))
        if not catalogues:
            problems.append(Problem(language, str(folder), "no catalogues"))
        for po in catalogues:
            problems += catalogue_problems(po)
    return problems


def normalize(text: str) -> str:
    """A message as compared with the source: one space between words."""
    return " ".join(text.split())


def catalogue(page: str, language: str, locales: Path = LOCALES) -> dict[str, str]:
    """One page's translations (fuzzy ones left out), keyed by the normalized English message."""
    po = locales / language / "LC_MESSAGES" / f"{page}.po"
    if not po.is_file():
        raise ValueError(f"{po} is missing: run `make locale`")
    with po.open("rb") as f:
        return {
            normalize(m.id): m.string
            for m in read_po(f)
            if m.id and m.string and not m.fuzzy
        }


_DIRECTIVE = re.compile(r"^(\s*)(`{3,}|:{3,})\{([^}]+)\}(.*)$")
_OPTION = re.compile(r"^(\s*):(\w[\w-]*):(.*)$")
LITERAL_DIRECTIVES = (
    "code-cell",
    "literalinclude",
    "code-block",
    "code",
    "math",
    "glue",
)


def translate_source(text: str, messages: dict[str, str], md) -> tuple[str, list[str]]:
    """MyST text with each sentence the catalogue holds replaced by its translation (paragraphs, headings,
    list items, directive titles, :alt: texts, captions; code untouched), and the sentences with words
    that it lacks. booktools.notebooks uses it for the notebooks of a translated edition."""
    missing: list[str] = []
    lines = _translate_lines(text.split("\n"), messages, md, missing)
    return "\n".join(lines), missing


def _translated(message: str, messages: dict[str, str], missing: list[str]) -> str:
    """One message's translation, or the message itself (noted as missing when it has words)."""
    key = normalize(message)
    if key in messages:
        return messages[key]
    if needs_words(key):
        missing.append(key)
    return message


def _translate_lines(
    lines: list[str], messages: dict[str, str], md, missing: list[str]
) -> list[str]:
    """The lines of a MyST text translated: its blocks by markdown-it, directive bodies recursively."""
    tokens = md.parse("\n".join(lines))
    edits: list[tuple[int, int, list[str]]] = []
    fenced: list[tuple[int, int]] = []
    for token in tokens:
        if (
            token.type in ("fence", "colon_fence")
            and token.map
            and _DIRECTIVE.match(lines[token.map[0]])
        ):
            first, last = token.map
            fenced.append((first, last))
            edits.append(
                (
                    first,
                    last,
                    _translate_directive(lines[first:last], messages, md, missing),
                )
            )
    for index, token in enumerate(tokens):
        if token.type != "inline" or not token.map or index == 0:
            continue
        if tokens[index - 1].type not in ("paragraph_open", "heading_open"):
            continue
        first, last = token.map
        if any(a <= first < b for a, b in fenced):
            continue
        head = token.content.split("\n")[0]
        at = lines[first].find(head)
        prefix = lines[first][:at] if at >= 0 else ""
        new = _translated(token.content, messages, missing)
        if new is not token.content:
            edits.append((first, last, [prefix + new]))
    for first, last, new in sorted(edits, reverse=True):
        lines[first:last] = new
    return lines


def _translate_directive(
    lines: list[str], messages: dict[str, str], md, missing: list[str]
) -> list[str]:
    """One fenced directive: its title (admonition, exercise), its :alt: and its body translated."""
    indent, fence, name, argument = _DIRECTIVE.match(lines[0]).groups()
    if name in LITERAL_DIRECTIVES:
        return lines
    opening = lines[0]
    if argument.strip() and name in (
        "admonition",
        "exercise",
        "figure",
        "note",
        "tip",
        "important",
        "warning",
    ):
        if normalize(argument) in messages or needs_words(argument):
            opening = f"{indent}{fence}{{{name}}} {_translated(argument.strip(), messages, missing)}"
    body_start = 1
    options = []
    while body_start < len(lines) - 1 and _OPTION.match(lines[body_start]):
        space, key, value = _OPTION.match(lines[body_start]).groups()
        if key == "alt":
            value = " " + _translated(value.strip(), messages, missing)
        options.append(f"{space}:{key}:{value}")
        body_start += 1
    body = _translate_lines(lines[body_start:-1], messages, md, missing)
    return [opening, *options, *body, lines[-1]]


def fill_wordless(po: Path) -> int:
    """Fill each untranslated message without words (a formula, a number) with itself."""
    with po.open("rb") as f:
        catalog = read_po(f)
    filled = 0
    for message in catalog:
        if message.id and not message.string and not needs_words(message.id):
            message.string, filled = message.id, filled + 1
            message.flags.discard("fuzzy")
    if filled:
        with po.open("wb") as f:
            write_po(f, catalog, width=76)
    return filled


def extract(build: Path = REPOSITORY_ROOT / "_build") -> Path:
    """Run Sphinx's gettext builder on the executed chapters; the folder of the .pot files."""
    config = build / "gettext" / "_config.yml"
    shutil.rmtree(
        build / "gettext" / "_build" / ".doctrees", ignore_errors=True
    )  # every page read again
    _run(sys.executable, "-m", "booktools.editions", str(config))
    _run("jupyter-book", "build", "book", "--config", str(config),
         "--path-output", str(build / "gettext"), "--builder", "custom",
         "--custom-builder", "gettext", "--warningiserror", "--keep-going")  # fmt: skip
    return build / "gettext" / "_build" / "gettext"


def _run(tool: str, *args: str) -> None:
    """Run a command of this environment (a name in its bin folder, or a path) from the repository."""
    path = tool if "/" in tool else str(Path(sys.executable).parent / tool)
    subprocess.run([path, *args], check=True, cwd=REPOSITORY_ROOT)


def update(languages: tuple[str, ...] = LANGUAGES) -> None:
    """Extract the sentences and merge them into each language's catalogues (sphinx-intl)."""
    pot = extract()
    (pot / "sphinx.pot").unlink(
        missing_ok=True
    )  # the templates' words: sphinx.po is kept by hand
    for language in languages:
        _run(
            "sphinx-intl",
            "update",
            "-p",
            str(pot),
            "-d",
            str(LOCALES),
            "-l",
            language,
            "-w",
            "76",
        )
        update_assignments(language)
        for po in sorted((LOCALES / language / "LC_MESSAGES").glob("**/*.po")):
            fill_wordless(po)
    for problem in check(languages):
        print(problem)


def _markdown():
    """myst-parser's parser with the book's extensions."""
    from booktools.editions import read_config
    from booktools.myst import markdown_parser

    config = read_config(REPOSITORY_ROOT / "_config.yml")
    return markdown_parser(config["parse"]["myst_enable_extensions"])


def assignment_messages(master: Path, md) -> list[str]:
    """The sentences of an assignment master's Markdown cells (what its students read)."""
    import jupytext

    found: list[str] = []
    for cell in jupytext.read(master, fmt="py:percent").cells:
        if cell.cell_type == "markdown":
            found += translate_source(cell.source, {}, md)[1]
    return list(dict.fromkeys(found))


def update_assignments(language: str, masters: Path = ASSIGNMENTS) -> None:
    """Merge each master's sentences into its catalogue (new: untranslated, changed: fuzzy)."""
    from babel.messages.catalog import Catalog

    md = _markdown()
    folder = LOCALES / language / "LC_MESSAGES" / ASSIGNMENT_DOMAIN
    folder.mkdir(parents=True, exist_ok=True)
    for master in sorted(masters.glob("[0-9][0-9]_*.py")):
        template = Catalog()
        for message in assignment_messages(master, md):
            template.add(message, locations=[(f"assignments/{master.name}", 0)])
        po = folder / f"{master.stem}.po"
        if po.is_file():
            with po.open("rb") as f:
                catalog = read_po(f)
            template.creation_date = (
                catalog.creation_date
            )  # unchanged, unless the messages change
        else:
            catalog = Catalog(locale=language)
        catalog.update(template)
        with po.open("wb") as f:
            write_po(f, catalog, width=76, ignore_obsolete=True)


def translated_master(
    master: Path, language: str, md=None, locales: Path = LOCALES
) -> str:
    """An assignment master with its Markdown cells in `language` (code, tests and otter's raw cells as
    they are): the same master, for `make assignments` to hand out in that language."""
    import jupytext

    md = md or _markdown()
    messages = catalogue(f"{ASSIGNMENT_DOMAIN}/{master.stem}", language, locales)
    notebook = jupytext.read(master, fmt="py:percent")
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source, missing = translate_source(cell.source, messages, md)
            if missing:
                raise ValueError(
                    f"{master.name}: not translated into {language}: {missing[0][:80]!r} "
                    "(run `make locale` and translate it)"
                )
    return jupytext.writes(notebook, fmt="py:percent")


def write_masters(
    language: str, target: Path, masters: Path = ASSIGNMENTS
) -> list[Path]:
    """Every assignment master in `language`, written to target/<name>.py."""
    md = _markdown()
    written = []
    for master in sorted(masters.glob("[0-9][0-9]_*.py")):
        path = target / master.name
        atomic_write_text(path, translated_master(master, language, md))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """`python -m booktools.translation update|check`."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["update"]:
        try:
            update()
        except subprocess.CalledProcessError as exc:
            print(
                f"error: {exc.cmd[0]} failed (exit {exc.returncode})", file=sys.stderr
            )
            return 1
        return 0
    if args == ["check"]:
        problems = check()
        for problem in problems:
            print(problem)
        print(
            f"{len(problems)} problem(s) in the catalogues of {', '.join(LANGUAGES)}"
            + (
                "; translate them in book/locales (see book/locales/ru/glossary.md)"
                if problems
                else ""
            )
        )
        return 1 if problems else 0
    if len(args) == 3 and args[0] == "masters":
        try:
            for path in write_masters(args[1], Path(args[2])):
                print(f"wrote {path}")
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    print(
        "usage: PYTHONPATH=tools python -m booktools.translation update|check|masters LANG DIR",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
