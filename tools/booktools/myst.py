"""MyST Markdown as plain Jupyter Markdown, for the notebooks (booktools.notebooks).

myst-parser's markdown-it parser (the book's extensions) finds the directives, roles, targets and comments,
and its directive parser reads each directive's argument, options and body, as the build does. Rendering
them as plain text is the one part no library does, so it is here: admonitions and exercises become a bold
title over a blockquote, solutions the same (reader edition) or nothing (student edition), `{glue:figure}`
a numbered caption under the cell that draws it, `literalinclude` the included code (Sphinx's reader), the
roles (`{glue:text}`, `{cite}`, `{numref}`, `{ref}`, `{doc}`, `{eq}`, ...) text. The rest of a cell is kept
as written, replaced in place by the tokens' lines (rendering the tokens again would reflow the authors'
lines). Numbers (figures, exercises) are the book's: counted in _toc.yml order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from types import SimpleNamespace
from typing import Iterable, Iterator

from docutils.parsers.rst.directives.misc import TestDirective
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.myst_role.index import myst_role
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.directives import parse_directive_text
from myst_parser.parsers.mdit import create_md_parser
from sphinx.directives.code import LiteralIncludeReader
from sphinx.util.nodes import split_explicit_title

from booktools.citations import Bibliography

ADMONITIONS = {
    "note",
    "tip",
    "important",
    "warning",
    "caution",
    "attention",
    "danger",
    "error",
    "hint",
    "seealso",
}
NUMBERED = ("figure", "glue:figure")
LITERAL = (
    "literalinclude",
    "code-block",
    "code",
    "math",
    "code-cell",
)  # bodies that are not MyST
HIDDEN = (
    "myst_target",
    "myst_line_comment",
)  # (label)= and % comment lines: nothing to show
EDITIONS = ("reader", "student")
# The words the conversion itself writes, in each translated edition's language (the notebooks of
# book/locales/<lang>/notebooks); English is the key.
WORDS: dict[str, dict[str, str]] = {
    "ru": {
        "Fig.": "Рис.",
        "Figure": "Рисунок",
        "drawn by the code cell above": "нарисован ячейкой кода выше",
        "Exercise": "Упражнение",
        "Solution to Exercise": "Решение упражнения",
        "Solution": "Решение",
        "equation": "формула",
        "References": "Литература",
        "Note": "Примечание",
        "Tip": "Совет",
        "Important": "Важно",
        "Warning": "Предупреждение",
        "Hint": "Подсказка",
        "Seealso": "См. также",
        "Live explorer": "Живой обозреватель",
        "It runs in the book's web pages (the page Explore the networks), not in a notebook.": (
            "Он работает на веб-страницах книги (страница «Исследуйте сети»), а не в ноутбуке."
        ),
    }
}


def word(text: str, language: str) -> str:
    """One of the conversion's own words in a language (English: unchanged)."""
    if language == "en":
        return text
    try:
        return WORDS[language][text]
    except KeyError:
        raise ValueError(
            f"no {language} word for {text!r}: add it to WORDS in tools/booktools/myst.py"
        ) from None


@dataclass(frozen=True)
class Directive:
    """One fenced directive as myst-parser reads it, and its lines [first, last + 1) in the text."""

    name: str
    argument: str
    options: dict[str, str]
    body: str
    lines: tuple[int, int]


@dataclass
class BookIndex:
    """What cross-references resolve to, across the whole book (_toc.yml order)."""

    titles: dict[str, str] = field(default_factory=dict)  # docname -> title
    labels: dict[str, str] = field(
        default_factory=dict
    )  # (label)= of a heading -> its text
    figures: dict[str, int] = field(
        default_factory=dict
    )  # figure :name: -> book-wide number
    exercises: dict[str, int] = field(
        default_factory=dict
    )  # exercise :label: -> book-wide number


@dataclass
class Context:
    """Everything one chapter's conversion needs (booktools.notebooks makes one per notebook)."""

    glue: (
        dict[str, str] | None
    )  # key -> the glued value's text/plain, as stored by myst-nb; None:
    # no build values, each glued value shown by name as ⟨key⟩
    bibliography: Bibliography
    index: BookIndex
    md: MarkdownIt  # markdown_parser() with the book's extensions
    source_dir: Path  # the chapter's folder, for literalinclude paths
    edition: str = "reader"
    cited: list[str] = field(
        default_factory=list
    )  # filled while converting: keys in order of citation
    glued: set[str] = field(
        default_factory=set
    )  # filled while converting: the glue keys shown
    language: str = "en"  # the edition's language: the words of WORDS


def _located_role(state: StateInline, silent: bool) -> bool:
    """mdit-py-plugins' MyST role rule, also noting the role's span in its inline source (convert_text)."""
    start = state.pos
    found = myst_role(state, silent)
    if found and not silent:
        state.tokens[-1].meta["span"] = (start, state.pos)
    return found


def markdown_parser(extensions: Iterable[str]) -> MarkdownIt:
    """myst-parser's parser with _config.yml's myst_enable_extensions, roles located (load_book, the tests)."""
    md = create_md_parser(
        MdParserConfig(enable_extensions=set(extensions)), RendererHTML
    )
    md.inline.ruler.at("myst_role", _located_role)
    return md


def directives(tokens: list[Token], text: str) -> list[Directive]:
    """The fenced directives of a parsed text (not in a blockquote), as myst-parser reads them: convert_text, walk."""
    found, lines = [], text.split("\n")
    for token in tokens:
        if (
            token.type not in ("fence", "colon_fence")
            or not re.match(r"\{[^}]+\}", token.info)
            or not lines[token.map[0]].lstrip().startswith(token.markup)
        ):
            continue
        first, last = token.map
        closing = (
            re.escape(token.markup) + re.escape(token.markup[0]) + "*"
        )  # the same mark, as long or longer
        if last - first < 2 or not re.fullmatch(closing, lines[last - 1].strip()):
            raise ValueError(
                f"unclosed {token.markup} fence"
            )  # markdown-it would close it at the end
        name, _, argument = token.info[1:].partition("}")
        parsed = parse_directive_text(
            TestDirective, argument, token.content
        )  # TestDirective: any option, as text
        if parsed.warnings:
            raise ValueError(
                f"{{{name}}} on line {first + 1}: {parsed.warnings[0].msg}"
            )
        found.append(
            Directive(
                name,
                "".join(parsed.arguments).strip(),
                parsed.options,
                "\n".join(parsed.body),
                (first, last),
            )
        )
    return found


def walk_directives(text: str, md: MarkdownIt) -> Iterator[Directive]:
    """Every directive of a text, each before those nested in it (the book's numbering order): index_chapter."""
    for directive in directives(md.parse(text), text):
        yield directive
        if directive.name not in LITERAL:
            yield from walk_directives(directive.body, md)


def _quote(title: str, body: str) -> str:
    """A bold title over a blockquote of the body."""
    lines = [f"**{title}**", ""] + body.strip("\n").splitlines()
    return "\n".join(f"> {line}" if line.strip() else ">" for line in lines)


def _literalinclude(block: Directive, ctx: Context) -> str:
    """The included file (or one :pyobject: of it, read by Sphinx's LiteralIncludeReader) as a code fence."""
    path = (ctx.source_dir / block.argument).resolve()
    try:
        text, _ = LiteralIncludeReader(
            str(path), block.options, SimpleNamespace(source_encoding="utf-8")
        ).read()
    except (OSError, ValueError) as exc:
        raise ValueError(f"literalinclude {block.argument}: {exc}") from None
    language = block.options.get("language", "python" if path.suffix == ".py" else "")
    return f"```{language}\n{text.rstrip()}\n```"


def _figure(block: Directive, ctx: Context) -> str:
    """A numbered caption; a {glue:figure}'s image is the output of the cell that glued it."""
    caption = block.body.strip()
    number = ctx.index.figures.get(block.options.get("name", ""))
    head = (
        f"{word('Fig.', ctx.language)} {number}"
        if number
        else word("Figure", ctx.language)
    )
    if block.name == "glue:figure":
        drawn = word("drawn by the code cell above", ctx.language)
        return f"*{head} ({drawn}): {convert_text(caption, ctx)}*"
    alt = block.options.get("alt", caption.splitlines()[0] if caption else "figure")
    return f"![{alt}]({block.argument})\n\n*{head}: {convert_text(caption, ctx)}*"


def _exercise_title(block: Directive, ctx: Context, solution: bool) -> str:
    """'Exercise 4' / 'Exercise 4 (title)' / 'Solution to Exercise 4'."""
    if solution:
        number = ctx.index.exercises.get(block.argument)
        return (
            f"{word('Solution to Exercise', ctx.language)} {number}"
            if number
            else word("Solution", ctx.language)
        )
    number = ctx.index.exercises.get(block.options.get("label", ""))
    exercise = word("Exercise", ctx.language)
    title = f"{exercise} {number}" if number else exercise
    return f"{title} ({block.argument})" if block.argument else title


def render_block(block: Directive, ctx: Context) -> str:
    """One directive as plain Markdown ('' when it has nothing to show in this edition)."""
    if block.name == "solution":
        return (
            ""
            if ctx.edition == "student"
            else _quote(
                _exercise_title(block, ctx, True), convert_text(block.body, ctx)
            )
        )
    if block.name == "exercise":
        return _quote(_exercise_title(block, ctx, False), convert_text(block.body, ctx))
    if block.name == "admonition" or block.name in ADMONITIONS:
        title = (
            block.argument
            if block.name == "admonition"
            else (block.argument or word(block.name.capitalize(), ctx.language))
        )
        return _quote(convert_text(title, ctx), convert_text(block.body, ctx))
    if block.name in NUMBERED:
        return _figure(block, ctx)
    if block.name == "literalinclude":
        return _literalinclude(block, ctx)
    if block.name in ("code-block", "code", "sourcecode"):
        return f"```{block.argument}\n{block.body.rstrip()}\n```"
    if block.name == "math":
        return f"$$\n{block.body.strip()}\n$$"
    if block.name in ("bibliography", "tableofcontents", "glue"):
        return ""
    if block.name == "explorer":  # book/_ext/explorer.py: TensorFlow.js in the page
        return _quote(
            word("Live explorer", ctx.language),
            word(
                "It runs in the book's web pages (the page Explore the networks), "
                "not in a notebook.",
                ctx.language,
            ),
        )
    return _quote(
        block.argument or block.name.capitalize(), convert_text(block.body, ctx)
    )


def _glue(content: str, ctx: Context) -> str:
    """A {glue:text} role's value, formatted by myst-nb (an optional :format spec)."""
    from myst_nb.core.variables import format_plain_text

    if "::" in content:
        raise ValueError(
            f"{{glue:text}}`{content}`: glue from another page is not supported in notebooks"
        )
    key, _, spec = content.partition(":")
    if ctx.glue is None:
        ctx.glued.add(key)
        return f"⟨{key}⟩"
    if key not in ctx.glue:
        raise ValueError(
            f"glued value {key!r} is unknown: run `make book`, then `make notebooks`"
        )
    ctx.glued.add(key)
    return format_plain_text(ctx.glue[key], spec)


def _reference(role: str, content: str, ctx: Context) -> str:
    """{numref}, {ref}, {doc} and {eq} as the text the book shows ('text <target>' read by Sphinx)."""
    explicit, text, target = split_explicit_title(content)
    text = text if explicit else ""
    if role == "doc":
        name = target.removesuffix(".md").split("/")[-1]
        return text or f"*{ctx.index.titles.get(name, name)}*"
    if role == "eq":
        return f"{word('equation', ctx.language)} ({target})"
    if target in ctx.index.figures or target in ctx.index.exercises:
        kind, number = (
            (word("Fig.", ctx.language), ctx.index.figures[target])
            if target in ctx.index.figures
            else (word("Exercise", ctx.language), ctx.index.exercises[target])
        )
        if text and "%s" in text:
            return text.replace("%s", str(number))
        return text or f"{kind} {number}"
    return text or ctx.index.labels.get(target, target)


def _role(role: str, content: str, ctx: Context) -> str:
    """One inline role as plain text; a citation's key is remembered for the reference list."""
    if role in ("glue", "glue:text", "glue:md"):
        return _glue(content, ctx)
    if role == "cite" or role.startswith("cite:"):
        keys = [k.strip() for k in content.split(",") if k.strip()]
        ctx.cited.extend(keys)
        return ctx.bibliography.cite(role.partition(":")[2] or "p", keys)
    if role in ("numref", "ref", "doc", "eq", "numref:ref"):
        return _reference(role, content, ctx)
    if role == "math":
        return f"${content}$"
    if role in ("code", "literal", "file", "samp", "command"):
        return f"`{content}`"
    return split_explicit_title(content)[
        1
    ]  # {term}, {abbr}, {sub-ref}, ...: their text


def _located_roles(
    tokens: list[Token], text: str, starts: list[int]
) -> Iterator[tuple[int, int, Token]]:
    """Every role of a parsed text and its span in the text (markdown-it's inline tokens carry lines, no columns)."""
    cursor = 0
    for token in tokens:
        if token.type != "inline" or not token.map:
            continue
        shifts, offset = (
            [],
            0,
        )  # per line of the inline source: its place in the text minus its place in the source
        for number, line in enumerate(token.content.split("\n")):
            cursor = text.index(line, max(cursor, starts[token.map[0] + number]))
            shifts.append(cursor - offset)
            cursor, offset = cursor + len(line), offset + len(line) + 1
        for role in (
            child for child in token.children or [] if child.type == "myst_role"
        ):
            start, end = role.meta["span"]
            yield (
                start + shifts[token.content.count("\n", 0, start)],
                end + shifts[token.content.count("\n", 0, end - 1)],
                role,
            )


def convert_text(text: str, ctx: Context) -> str:
    """A Markdown cell as plain Markdown, in place: directives and roles rendered, targets and comments dropped."""
    tokens = ctx.md.parse(text)
    starts = list(
        accumulate((len(line) + 1 for line in text.split("\n")), initial=0)
    )  # where each line starts
    edits = [
        (starts[d.lines[0]], starts[d.lines[1]] - 1, render_block(d, ctx))
        for d in directives(tokens, text)
    ]
    edits += [
        (starts[t.map[0]], starts[t.map[1]], "") for t in tokens if t.type in HIDDEN
    ]
    edits += [
        (start, end, _role(role.meta["name"], role.content, ctx))
        for start, end, role in _located_roles(tokens, text, starts)
    ]
    for start, end, new in sorted(edits, key=lambda edit: edit[0], reverse=True):
        text = text[:start] + new + text[end:]
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def index_chapter(name: str, text: str, index: BookIndex, md: MarkdownIt) -> None:
    """Add one chapter's title, heading labels, figures and exercises to the book-wide index (load_book)."""
    tokens = md.parse(text)
    for token, following, heading in zip(tokens, tokens[1:], tokens[2:]):
        if token.type == "heading_open" and token.tag == "h1":
            index.titles.setdefault(name, following.content)
        if token.type == "myst_target" and following.type == "heading_open":
            index.labels[token.content] = heading.content
    for block in walk_directives(text, md):
        if block.name in NUMBERED and block.body.strip():
            index.figures[block.options.get("name", f"_figure{len(index.figures)}")] = (
                len(index.figures) + 1
            )
        if block.name == "exercise" and "nonumber" not in block.options:
            index.exercises[
                block.options.get("label", f"_exercise{len(index.exercises)}")
            ] = len(index.exercises) + 1
