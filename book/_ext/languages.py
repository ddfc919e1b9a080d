"""Sphinx extension: the book in each of its languages from one source and one execution (issue 19).

The English chapters are the source; Sphinx's gettext catalogues (book/locales/<lang>/LC_MESSAGES)
translate the prose. What they cannot reach is handled here, for a translated build:

- figures: each ``{glue:figure} key`` shows the figure glued as ``glue_key(key, lang)``, the same
  figure rendered with its words from cnnbook.book.words (pages.glue_figure glues both);
- the code's Markdown output (table headers and cells, the "What we tried first" notes) is
  translated with cnnbook.book.words.translate; a Latin word it does not know is a warning naming it
  (an error under ``--warningiserror``);
- every message of the page must have been translated: a paragraph, heading or caption that the
  catalogue left in English is a warning naming the sentence (a changed English sentence fails the
  build until its translation is updated);
- image alt texts are messages too: extracted by the gettext builder, translated here;
- glued numbers are written the Russian way (decimal comma, a no-break space between thousands);
- the theme's words that its own catalogues do not translate: booktheme.po is added as the fallback of
  sphinx-book-theme's catalogue, sphinx.po (the "sphinx" domain, pydata-sphinx-theme's words) is read
  by Sphinx itself, and book/_templates gives _() to the components that wrote English as is.

In every build (English too) the code's output is marked untranslatable, so that the gettext builder
extracts only the chapters' own sentences, and each page gets the language switcher's links
(book/_templates/language-switcher.html): ``page.html`` <-> ``ru/page.html``.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.i18n import docname_to_domain
from sphinx.util.nodes import extract_messages

from cnnbook.book.words import UntranslatedError, glue_key, local_numbers, translate

logger = logging.getLogger(__name__)

SOURCE = "en"  # the language the chapters are written in
PREFIX = {
    "en": "",
    "ru": "ru/",
}  # where each language's pages live in the published site
NAMES = {"en": "English", "ru": "Русский"}  # each language named in itself
LABEL = {"en": "Language", "ru": "Язык"}  # the switcher's name for screen readers
_GLUE_FIGURE = re.compile(r"^(\s*(?:`{3,}|:{3,})\{glue:figure\}\s+)(\S+)", re.M)


def language(app: Sphinx) -> str:
    """The language this build writes."""
    return app.config.language or SOURCE


def _figure_keys(app: Sphinx, docname: str, source: list[str]) -> None:
    """source-read: point each {glue:figure} at its rendering in this build's language."""
    lang = language(app)
    if lang != SOURCE:
        source[0] = _GLUE_FIGURE.sub(
            lambda m: m.group(1) + glue_key(m.group(2), lang), source[0]
        )


def _outputs(doctree: nodes.document) -> list[nodes.Element]:
    """The containers of the code cells' outputs."""
    return [
        n
        for n in doctree.findall(nodes.container)
        if "cell_output" in n.get("classes", [])
    ]


def _code_or_math(node: nodes.Node) -> bool:
    """Whether a text node is inside code or a formula (never translated)."""
    while node is not None:
        if isinstance(
            node,
            (
                nodes.literal,
                nodes.literal_block,
                nodes.math,
                nodes.math_block,
                nodes.raw,
            ),
        ):
            return True
        node = node.parent
    return False


def _translate_outputs(app: Sphinx, doctree: nodes.document, lang: str) -> None:
    """The code's Markdown output in this language (cnnbook.book.words), numbers the local way."""
    docname = app.env.docname
    for container in _outputs(doctree):
        for text in list(container.findall(nodes.Text)):
            if _code_or_math(text) or not text.astext().strip():
                continue
            try:
                new = translate(text.astext(), lang)
            except UntranslatedError as exc:
                logger.warning(
                    f"{docname}: the code's output is not translated: {exc}",
                    location=text.parent,
                )
                continue
            text.parent.replace(text, nodes.Text(local_numbers(new, lang)))


def _glued_numbers(doctree: nodes.document, lang: str) -> None:
    """Glued text values with the Russian decimal comma and thousands separator."""
    for inline in doctree.findall(nodes.inline):
        if "pasted-text" in inline.get("classes", []):
            for text in list(inline.findall(nodes.Text)):
                text.parent.replace(
                    text, nodes.Text(local_numbers(text.astext(), lang))
                )


def _catalog(app: Sphinx, docname: str, lang: str) -> gettext.NullTranslations:
    """This page's message catalogue in this language (read once per page, by _read; unlike
    sphinx.locale.init_locale, it leaves Sphinx's own registry of translators alone)."""
    domain = docname_to_domain(docname, app.config.gettext_compact)
    catalog = gettext.NullTranslations()
    for directory in reversed(app.config.locale_dirs):  # the first directory wins
        found = gettext.translation(
            domain,
            localedir=str(Path(app.srcdir, directory)),
            languages=[lang],
            fallback=True,
        )
        if type(found) is not gettext.NullTranslations:  # a catalogue was found there
            found.add_fallback(catalog)
            catalog = found
    return catalog


def _translations(catalog: gettext.NullTranslations) -> tuple[set[str], set[str]]:
    """A catalogue's English messages that have a translation, and those translations."""
    known = getattr(catalog, "_catalog", {})
    pairs = [(k, v) for k, v in known.items() if isinstance(k, str) and k]
    return {k for k, _ in pairs}, {v for _, v in pairs}


def _untranslated_messages(
    app: Sphinx, doctree: nodes.document, catalog: gettext.NullTranslations
) -> None:
    """A message the catalogue left in its source language is a warning naming it."""
    english, translated = _translations(catalog)
    for node, msg in extract_messages(doctree):
        if isinstance(node, nodes.math_block) or node.get("translated"):
            continue
        if msg in english or msg in translated:
            continue  # translated (by Sphinx, or already: an image's alt text)
        if not re.search(r"[A-Za-z]{2}", re.sub(r"\$[^$]*\$|`[^`]*`", "", msg)):
            continue  # a formula, code or a number: nothing to translate
        logger.warning(
            f"{app.env.docname}: untranslated in '{language(app)}': {msg[:120]!r} "
            "(run `make locale` and translate it in book/locales)",
            location=node,
        )


def _alt_texts(
    app: Sphinx, doctree: nodes.document, lang: str, catalog: gettext.NullTranslations
) -> None:
    """Each image's alt text from the page's catalogue; one left untranslated is a warning."""
    _, translated = _translations(catalog)
    for image in doctree.findall(nodes.image):
        alt = image.get("alt")
        if alt and alt not in translated:
            new = catalog.gettext(alt)
            if new == alt:
                logger.warning(
                    f"{app.env.docname}: untranslated alt text in '{lang}': {alt[:120]!r}",
                    location=image,
                )
            image["alt"] = new


def _read(app: Sphinx, doctree: nodes.document) -> None:
    """doctree-read: outputs untranslatable (the gettext builder skips them); in a translation, the
    outputs, glued numbers and alt texts translated and every untranslated message reported."""
    for container in _outputs(doctree):
        for element in container.findall(nodes.TextElement):
            element["translatable"] = False
    _keep_alt_texts(app, doctree)
    lang = language(app)
    if lang != SOURCE and app.builder.name != "gettext":
        _translate_outputs(app, doctree, lang)
        catalog = _catalog(app, app.env.docname, lang)
        _alt_texts(app, doctree, lang, catalog)
        _untranslated_messages(app, doctree, catalog)


def _resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """doctree-resolved: glued numbers written the local way (translation); alt texts extracted (gettext)."""
    if app.builder.name != "gettext":
        if language(app) != SOURCE:
            _glued_numbers(doctree, language(app))
        return
    from sphinx.builders.gettext import MsgOrigin

    catalog = app.builder.catalogs[
        docname_to_domain(docname, app.config.gettext_compact)
    ]
    for alt, source, line in getattr(app.env, "cnnbook_alt_texts", {}).get(docname, []):
        catalog.add(alt, MsgOrigin(source, line))


def _keep_alt_texts(app: Sphinx, doctree: nodes.document) -> None:
    """doctree-read: remember each image's alt text (the gettext builder's figures lose their images
    when myst-nb picks the text/plain rendering for it)."""
    texts = [
        (
            image["alt"],
            image.source or app.env.doc2path(app.env.docname),
            image.line or 0,
        )
        for image in doctree.findall(nodes.image)
        if image.get("alt")
    ]
    if not hasattr(app.env, "cnnbook_alt_texts"):
        app.env.cnnbook_alt_texts = {}
    app.env.cnnbook_alt_texts[app.env.docname] = texts


def _switcher(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """html-page-context: the links to this page in the other languages (language-switcher.html)."""
    lang = language(app)
    up = "../" * pagename.count("/") + ("../" * PREFIX[lang].count("/"))
    context["language_links"] = [
        {
            "lang": other,
            "name": NAMES[other],
            "href": f"{up}{PREFIX[other]}{pagename}.html",
        }
        for other in PREFIX
        if other != lang
    ]
    context["language_label"] = LABEL[lang]


class LocateTableCells(SphinxTransform):
    """Give a table's cells the source and line of their table, before Sphinx's i18n (priority 20).

    myst-nb leaves them without, and Sphinx neither extracts nor translates a node without a source:
    a Markdown table of a notebook page stayed English, silently (issue 19)."""

    default_priority = 15

    def apply(self, **kwargs) -> None:
        """Every text element of every table that has no source gets its table's."""
        for table in self.document.findall(nodes.table):
            source = table.source or self.document["source"]
            line = table.line or 0
            for element in table.findall(nodes.TextElement):
                if not element.source:
                    element.source, element.line = source, line


def _compiled_catalogues(app: Sphinx, config) -> None:
    """config-inited, translated build: compile book/locales' catalogues for this build.

    The translated sentences are parsed by Sphinx in a document of their own, where a glue role
    finds no notebook: each ``{glue:text}`key``` of a translation becomes myst-nb's pending
    reference ``{glue:text}`/page.md::key```, resolved from the page's glue cache. Fuzzy entries are
    left out (they count as untranslated)."""
    lang = config.language or SOURCE
    if lang == SOURCE:
        return
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    target = Path(app.outdir).parent / "locales"
    folder = target / lang / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    for directory in config.locale_dirs:
        for po in sorted(
            Path(app.srcdir, directory, lang, "LC_MESSAGES").glob("**/*.po")
        ):
            domain = po.relative_to(
                Path(app.srcdir, directory, lang, "LC_MESSAGES")
            ).with_suffix("")
            source = next(
                (
                    s
                    for s in (
                        Path(app.srcdir, f"{domain}{x}") for x in (".md", ".ipynb")
                    )
                    if s.is_file()
                ),
                None,
            )
            with po.open("rb") as f:
                catalog = read_po(f, locale=lang)
            if source is not None:
                for message in catalog:
                    if message.id and isinstance(message.string, str):
                        message.string = _pending_glue(
                            message.string,
                            "/" + source.relative_to(app.srcdir).as_posix(),
                        )
            mo = folder / domain.with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with mo.open("wb") as f:
                write_mo(f, catalog, use_fuzzy=False)
    config.locale_dirs = [str(target)]
    # sphinx-book-theme's Russian catalogue lacks most of its words: ours (booktheme.po) is its fallback
    app.add_message_catalog("booktheme", str(target))


_GLUE_ROLE = re.compile(r"(\{glue(?::\w+)?\}`)(?![^`]*::)([^`:]+)(:[^`]*)?`")


def _pending_glue(text: str, path: str) -> str:
    """Every glue role of a translated sentence as a reference into its page's glue data."""
    return _GLUE_ROLE.sub(
        lambda m: f"{m.group(1)}{path}::{m.group(2)}{m.group(3) or ':s'}`", text
    )  # the format spec is not optional here: the role splits `page::key` at its last colon


def setup(app: Sphinx) -> dict:
    """Register the handlers."""
    app.add_transform(LocateTableCells)
    app.connect("config-inited", _compiled_catalogues)
    app.connect("source-read", _figure_keys)
    app.connect("doctree-read", _read)
    app.connect("doctree-resolved", _resolved)
    app.connect("html-page-context", _switcher)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
