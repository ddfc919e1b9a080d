"""MyST Markdown as plain Jupyter Markdown (the notebooks): directives and roles rendered as text.

Admonitions and exercises become a bold title over a blockquote, solutions the same (reader edition)
or nothing (student edition), `{glue:figure}` a numbered caption under the cell that draws it,
`literalinclude` the included code, and the roles (`{glue:text}`, `{cite}`, `{numref}`, `{ref}`,
`{doc}`, `{eq}`, ...) plain text. Numbers (figures, exercises) are the book's: counted in _toc.yml order.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from booktools.citations import Bibliography

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,}|:{3,})(.*)$")
DIRECTIVE = re.compile(r"^\{([\w:.-]+)\}\s*(.*)$")
OPTION = re.compile(r"^:([\w-]+):\s*(.*)$")
ROLE = re.compile(r"\{([\w:.-]+)\}`([^`]+)`")
LABEL_LINE = re.compile(r"^\((\S+)\)=\s*$")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]+)>$")  # "text <target>"
ADMONITIONS = {"note", "tip", "important", "warning", "caution", "attention", "danger", "error", "hint",
               "seealso"}
NUMBERED = ("figure", "glue:figure")
EDITIONS = ("reader", "student")


@dataclass(frozen=True)
class Block:
    """One fenced directive: name, argument, options, body lines."""

    name: str
    argument: str
    options: dict[str, str]
    body: list[str]


@dataclass
class BookIndex:
    """What cross-references resolve to, across the whole book (_toc.yml order)."""

    titles: dict[str, str] = field(default_factory=dict)     # docname -> title
    labels: dict[str, str] = field(default_factory=dict)     # (label)= of a heading -> its text
    figures: dict[str, int] = field(default_factory=dict)    # figure :name: -> book-wide number
    exercises: dict[str, int] = field(default_factory=dict)  # exercise :label: -> book-wide number


@dataclass
class Context:
    """Everything one chapter's conversion needs."""

    glue: dict[str, str] | None  # key -> the glued value's text/plain, as stored by myst-nb; None:
                                 # no build values, each glued value shown by name as ⟨key⟩
    bibliography: Bibliography
    index: BookIndex
    source_dir: Path            # the chapter's folder, for literalinclude paths
    edition: str = "reader"
    cited: list[str] = field(default_factory=list)  # filled while converting: keys in order of citation
    glued: set[str] = field(default_factory=set)    # filled while converting: the glue keys shown


def _fence_end(lines: list[str], start: int, fence: str) -> int:
    """The index of the line closing a fence opened with `fence` (its char, at least as long)."""
    closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    for index in range(start, len(lines)):
        if closing.match(lines[index]):
            return index
    raise ValueError(f"unclosed {fence} fence")


def _parse_block(name: str, argument: str, body: list[str]) -> Block:
    """Split a directive's leading `:key: value` lines (or a --- YAML block) from its body."""
    options: dict[str, str] = {}
    if body and body[0].strip() == "---":
        end = body.index("---", 1) if "---" in body[1:] else 0
        for line in body[1:end]:
            key, _, value = line.partition(":")
            options[key.strip()] = value.strip()
        body = body[end + 1:]
    while body and OPTION.match(body[0]):
        key, value = OPTION.match(body[0]).groups()
        options[key] = value
        body = body[1:]
    return Block(name, argument.strip(), options, body)


def iter_blocks(lines: list[str]) -> list[tuple[int, int, Block | None]]:
    """Top-level fences as (first line, last line, directive or None for a plain code fence)."""
    found, index = [], 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        end = _fence_end(lines, index + 1, match.group(2))
        directive = DIRECTIVE.match(match.group(3).strip())
        block = _parse_block(directive.group(1), directive.group(2), lines[index + 1:end]) if directive else None
        found.append((index, end, block))
        index = end + 1
    return found


def _quote(title: str, body: str) -> str:
    """A bold title over a blockquote of the body."""
    lines = [f"**{title}**", ""] + body.strip("\n").splitlines()
    return "\n".join(f"> {line}" if line.strip() else ">" for line in lines)


def _literalinclude(block: Block, ctx: Context) -> str:
    """The included file (or one :pyobject: of it) as a fenced code block."""
    path = (ctx.source_dir / block.argument).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise ValueError(f"literalinclude: cannot read {block.argument}") from None
    if "pyobject" in block.options:
        wanted = block.options["pyobject"]
        node = ast.parse(text)
        for part in wanted.split("."):  # "Class.method", as Sphinx allows
            node = next((n for n in node.body if getattr(n, "name", None) == part), None)
            if node is None:
                raise ValueError(f"literalinclude: no {wanted} in {block.argument}")
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        text = "\n".join(text.splitlines()[start - 1:node.end_lineno])
    language = block.options.get("language", "python" if path.suffix == ".py" else "")
    return f"```{language}\n{text.rstrip()}\n```"


def _figure(block: Block, ctx: Context) -> str:
    """A numbered caption; a {glue:figure}'s image is the output of the cell that glued it."""
    caption = "\n".join(block.body).strip()
    number = ctx.index.figures.get(block.options.get("name", ""))
    head = f"Fig. {number}" if number else "Figure"
    if block.name == "glue:figure":
        return f"*{head} (drawn by the code cell above): {convert_text(caption, ctx)}*"
    alt = block.options.get("alt", caption.splitlines()[0] if caption else "figure")
    return f"![{alt}]({block.argument})\n\n*{head}: {convert_text(caption, ctx)}*"


def _exercise_title(block: Block, ctx: Context, solution: bool) -> str:
    """'Exercise 4' / 'Exercise 4 (title)' / 'Solution to Exercise 4'."""
    if solution:
        number = ctx.index.exercises.get(block.argument)
        return f"Solution to Exercise {number}" if number else "Solution"
    number = ctx.index.exercises.get(block.options.get("label", ""))
    title = f"Exercise {number}" if number else "Exercise"
    return f"{title} ({block.argument})" if block.argument else title


def render_block(block: Block, ctx: Context) -> str:
    """One directive as plain Markdown ('' when it has nothing to show in this edition)."""
    body = "\n".join(block.body)
    if block.name == "solution":
        return "" if ctx.edition == "student" else _quote(_exercise_title(block, ctx, True), convert_text(body, ctx))
    if block.name == "exercise":
        return _quote(_exercise_title(block, ctx, False), convert_text(body, ctx))
    if block.name in ("admonition",) or block.name in ADMONITIONS:
        title = block.argument if block.name == "admonition" else (block.argument or block.name.capitalize())
        return _quote(convert_text(title, ctx), convert_text(body, ctx))
    if block.name in NUMBERED:
        return _figure(block, ctx)
    if block.name == "literalinclude":
        return _literalinclude(block, ctx)
    if block.name in ("code-block", "code", "sourcecode"):
        return f"```{block.argument}\n{body.rstrip()}\n```"
    if block.name == "math":
        return f"$$\n{body.strip()}\n$$"
    if block.name in ("bibliography", "tableofcontents", "glue"):
        return ""
    return _quote(block.argument or block.name.capitalize(), convert_text(body, ctx))


def _target(content: str) -> tuple[str | None, str]:
    """'text <target>' -> (text, target); 'target' -> (None, target)."""
    match = EXPLICIT.match(content)
    return (match.group(1), match.group(2)) if match else (None, content)


def _glue(content: str, ctx: Context) -> str:
    """A {glue:text} role's value, formatted as myst-nb does (an optional :format spec)."""
    from myst_nb.core.variables import format_plain_text

    if "::" in content:
        raise ValueError(f"{{glue:text}}`{content}`: glue from another page is not supported in notebooks")
    key, _, spec = content.partition(":")
    if ctx.glue is None:
        ctx.glued.add(key)
        return f"⟨{key}⟩"
    if key not in ctx.glue:
        raise ValueError(f"glued value {key!r} is unknown: run `make book`, then `make notebooks`")
    ctx.glued.add(key)
    return format_plain_text(ctx.glue[key], spec)


def _cite(role: str, content: str, ctx: Context) -> str:
    """A citation role as author-year text; the key is remembered for the reference list."""
    keys = [k.strip() for k in content.split(",") if k.strip()]
    ctx.cited.extend(keys)
    return ctx.bibliography.textual(keys) if role in ("cite:t", "cite:alt", "cite:ts") else \
        ctx.bibliography.parenthetical(keys)


def _reference(role: str, content: str, ctx: Context) -> str:
    """{numref}, {ref}, {doc} and {eq} as the text the book shows."""
    text, target = _target(content)
    if role == "doc":
        name = target.removesuffix(".md").split("/")[-1]
        return text or f"*{ctx.index.titles.get(name, name)}*"
    if role == "eq":
        return f"equation ({target})"
    if target in ctx.index.figures or target in ctx.index.exercises:
        kind, number = (("Fig.", ctx.index.figures[target]) if target in ctx.index.figures
                        else ("Exercise", ctx.index.exercises[target]))
        if text and "%s" in text:
            return text.replace("%s", str(number))
        return text or f"{kind} {number}"
    return text or ctx.index.labels.get(target, target)


def _role(match: re.Match, ctx: Context) -> str:
    """One inline role as plain text."""
    role, content = match.groups()
    if role in ("glue", "glue:text", "glue:md"):
        return _glue(content, ctx)
    if role == "cite" or role.startswith("cite:"):
        return _cite(role, content, ctx)
    if role in ("numref", "ref", "doc", "eq", "numref:ref"):
        return _reference(role, content, ctx)
    if role == "math":
        return f"${content}$"
    if role in ("code", "literal", "file", "samp", "command"):
        return f"`{content}`"
    return _target(content)[0] or content  # {term}, {abbr}, {sub-ref}, ...: their text


def convert_inline(text: str, ctx: Context) -> str:
    """Every role of a stretch of Markdown (no fences) as plain text; labels and comments dropped."""
    kept = [line for line in text.split("\n") if not LABEL_LINE.match(line) and not line.startswith("%")]
    return ROLE.sub(lambda m: _role(m, ctx), "\n".join(kept))


def convert_text(text: str, ctx: Context) -> str:
    """A Markdown cell's MyST as plain Markdown: directives rendered, plain code fences kept verbatim."""
    lines, out, position = text.split("\n"), [], 0
    for first, last, block in iter_blocks(lines):
        out.append(convert_inline("\n".join(lines[position:first]), ctx))
        out.append("\n".join(lines[first:last + 1]) if block is None else render_block(block, ctx))
        position = last + 1
    out.append(convert_inline("\n".join(lines[position:]), ctx))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")


def index_chapter(name: str, text: str, index: BookIndex) -> None:
    """Add one chapter's title, heading labels, figures and exercises to the book-wide index."""
    lines = text.split("\n")
    blocks = iter_blocks(lines)
    inside = {i for first, last, _ in blocks for i in range(first, last + 1)}
    for number, line in enumerate(lines):
        heading = HEADING.match(line) if number not in inside else None
        if heading and name not in index.titles and heading.group(1) == "#":
            index.titles[name] = heading.group(2)
        label = LABEL_LINE.match(line) if number not in inside else None
        following = next((line for line in lines[number + 1:] if line.strip()), "")
        if label and HEADING.match(following):
            index.labels[label.group(1)] = HEADING.match(following).group(2)
    _index_blocks([b for _, _, b in blocks if b is not None], index)


def _index_blocks(blocks: list[Block], index: BookIndex) -> None:
    """Number the figures and exercises of a list of directives (and of directives nested in them)."""
    for block in blocks:
        if block.name in NUMBERED and "\n".join(block.body).strip():
            index.figures[block.options.get("name", f"_figure{len(index.figures)}")] = len(index.figures) + 1
        if block.name == "exercise" and "nonumber" not in block.options:
            index.exercises[block.options.get("label", f"_exercise{len(index.exercises)}")] = \
                len(index.exercises) + 1
        nested = [b for _, _, b in iter_blocks(block.body) if b is not None]
        if nested and block.name not in ("literalinclude", "code-block", "code", "math", "code-cell"):
            _index_blocks(nested, index)


def solution_texts(text: str) -> dict[str, str]:
    """Every {solution} block of a chapter (nested ones included): exercise label -> body text."""
    found: dict[str, str] = {}
    pending: list[Block] = [b for _, _, b in iter_blocks(text.split("\n")) if b is not None]
    while pending:
        block = pending.pop(0)
        if block.name == "solution":
            found[block.argument] = "\n".join(block.body).strip()
        pending += [b for _, _, b in iter_blocks(block.body) if b is not None]
    return found

