"""Citations as plain text, for the notebooks (booktools.myst): sphinxcontrib-bibtex's author_year style, the
one the book's pages use (_config.yml's bibtex_reference_style), and pybtex's unsrt entries."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pybtex.database import BibliographyData, PybtexError, parse_file
from pybtex.style.formatting.unsrt import Style
from sphinxcontrib.bibtex.style.referencing import format_references
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo

REFERENCE_STYLE = AuthorYearReferenceStyle()


@dataclass(frozen=True)
class Bibliography:
    """The book's references.bib, parsed by pybtex, and each entry formatted as text."""

    data: BibliographyData
    entries: dict[
        str, str
    ]  # key -> "Chuan Guo, ... On calibration of modern neural networks. ... URL: ..."

    def cite(self, role: str, keys: list[str]) -> str:
        """{cite:<role>}`keys` as the book shows it: "p" -> "[Guo et al., 2017]", "t" -> "Guo et al. [2017]"."""
        if role not in REFERENCE_STYLE.role_names():
            raise ValueError(f"{{cite:{role}}} is not a role of the author_year style")
        for key in keys:
            if key not in self.entries:
                raise ValueError(f"citation key {key!r} is not in the bibliography")
        references = [
            (
                self.data.entries[key],
                None,
                SphinxReferenceInfo(None, "", "", key, None, "", ""),
            )
            for key in keys
        ]
        return str(
            format_references(REFERENCE_STYLE, role, references)
        )  # str(): the rich text's plain text

    def reference_list(self, keys: list[str], heading: str = "References") -> str:
        """A Markdown list of the cited entries, sorted by label, under a References heading."""
        labels = {
            key: (self.cite("author", [key]), self.cite("year", [key]))
            for key in dict.fromkeys(keys)
        }
        items = [
            f"- {author} ({year}). {self.entries[key]}"
            for key, (author, year) in sorted(labels.items(), key=lambda item: item[1])
        ]
        return f"## {heading}\n\n" + "\n".join(items)


def read_bibliography(path: str | os.PathLike) -> Bibliography:
    """Parse a .bib file (load_book), with a one-line error naming the file when it cannot be read."""
    try:
        data = parse_file(str(path), bib_format="bibtex")
        entries = {
            entry.key: entry.text.render_as("text")
            for entry in Style().format_entries(data.entries.values())
        }
    except (OSError, PybtexError) as exc:
        raise ValueError(
            f"{path}: cannot read the bibliography ({exc.__class__.__name__}: {exc})"
        ) from None
    return Bibliography(data, entries)
