"""Citations as plain text (the notebooks): author-year labels like the book's and a reference list."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pybtex.database import BibliographyData, PybtexError, parse_file


@dataclass(frozen=True)
class Bibliography:
    """The book's references.bib: each key's author-year label and its formatted entry."""

    authors: dict[str, str]   # key -> "Guo et al."
    years: dict[str, str]     # key -> "2017"
    entries: dict[str, str]   # key -> "Chuan Guo, ... On calibration of modern neural networks. ... URL: ..."

    def _check(self, key: str) -> None:
        """A one-line error for a key the .bib file lacks."""
        if key not in self.entries:
            raise ValueError(f"citation key {key!r} is not in the bibliography")

    def parenthetical(self, keys: list[str]) -> str:
        """{cite}`a,b` -> "[Guo et al., 2017; Ioffe and Szegedy, 2015]", as the book shows it."""
        for key in keys:
            self._check(key)
        return "[" + "; ".join(f"{self.authors[k]}, {self.years[k]}" for k in keys) + "]"

    def textual(self, keys: list[str]) -> str:
        """{cite:t}`a` -> "Guo et al. [2017]"."""
        for key in keys:
            self._check(key)
        return "; ".join(f"{self.authors[k]} [{self.years[k]}]" for k in keys)

    def reference_list(self, keys: list[str]) -> str:
        """A Markdown list of the cited entries, sorted by label, under a References heading."""
        ordered = sorted(dict.fromkeys(keys), key=lambda k: (self.authors[k], self.years[k]))
        items = [f"- {self.authors[k]} ({self.years[k]}). {self.entries[k]}" for k in ordered]
        return "## References\n\n" + "\n".join(items)


def _author_label(last_names: list[str]) -> str:
    """["Guo", "Pleiss", ...] -> "Guo et al."; two authors joined by "and" (the book's author_year style)."""
    if not last_names:
        return "Anonymous"
    if len(last_names) == 1:
        return last_names[0]
    if len(last_names) == 2:
        return f"{last_names[0]} and {last_names[1]}"
    return f"{last_names[0]} et al."


def _plain(text: str) -> str:
    """BibTeX braces and a LaTeX dash as plain text."""
    return text.replace("{", "").replace("}", "").replace("--", "–")


def _formatted_entries(data: BibliographyData) -> dict[str, str]:
    """Every entry formatted by pybtex's unsrt style as plain text."""
    from pybtex.style.formatting.unsrt import Style

    style = Style()
    return {entry.key: entry.text.render_as("text") for entry in style.format_entries(data.entries.values())}


def read_bibliography(path: str | os.PathLike) -> Bibliography:
    """Parse a .bib file, with a one-line error naming the file when it cannot be read."""
    try:
        data = parse_file(str(path), bib_format="bibtex")
        entries = _formatted_entries(data)
    except (OSError, PybtexError) as exc:
        raise ValueError(f"{path}: cannot read the bibliography ({exc.__class__.__name__}: {exc})") from None
    authors = {key: _author_label([_plain(" ".join(p.last_names)) for p in entry.persons.get("author", [])])
               for key, entry in data.entries.items()}
    years = {key: str(entry.fields.get("year", "n.d.")) for key, entry in data.entries.items()}
    return Bibliography(authors, years, entries)
