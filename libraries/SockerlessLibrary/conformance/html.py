"""The conformance matrix as HTML: a table for ``log.html`` and the standalone ``conformance.html``.

Every cell is text escaped here, whatever it holds: probe names and documentation are the suite's,
but the kit's messages quote what the daemon answered, which is hostile (it never becomes markup
or a link). The only markup is this module's own tags and attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from . import FIXED, REGRESSED, Comparison, Row

STATUS_COLOURS = {"PASS": "#c8efc8", "FAIL": "#f6c6c6", "SKIP": "#f3ecb8"}
CHANGE_COLOURS = {REGRESSED: "#f6c6c6", FIXED: "#c8efc8"}
NEUTRAL = "#eeeeee"
CELL = "border:1px solid #bbb;padding:3px 6px;vertical-align:top;text-align:left"
RUN_FIELDS = ("target", "daemon", "mode", "label", "written", "run_id")

PAGE_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
h2 { margin-top: 1.2em; }
.message { white-space: pre-wrap; font-family: monospace; font-size: 90%; max-width: 60em; }
"""


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _cell(value: object, *, colour: str | None = None, tag: str = "td", kind: str = "") -> str:
    style = CELL + (f";background:{colour}" if colour else "")
    css_class = f' class="{kind}"' if kind else ""
    return f'<{tag} style="{style}"{css_class}>{_text(value)}</{tag}>'


def _row(row: Row, with_change: bool) -> str:
    probe = row.probe
    cells = [
        _cell(probe.name),
        _cell(probe.checks, kind="message"),
        _cell(row.reference, colour=STATUS_COLOURS.get(row.reference)),  # or NOT_MEASURED
        _cell(probe.status, colour=STATUS_COLOURS[probe.status]),
    ]
    if with_change:
        change = row.change or ""
        label = f"{change} (was {row.before})" if row.before and change != "unchanged" else change
        cells.append(_cell(label, colour=CHANGE_COLOURS.get(change)))
    cells.append(_cell(probe.message, kind="message"))
    return "<tr>" + "".join(cells) + "</tr>"


def _area_table(rows: Iterable[Row], comparison: Comparison) -> str:
    with_change = comparison.baseline_run is not None
    headers = ["Probe", "Docker behaviour checked", "Docker Engine", "This target"]
    headers += ["Since the baseline"] if with_change else []
    headers.append("The kit's message")
    head = "".join(_cell(header, tag="th", colour=NEUTRAL) for header in headers)
    body = "".join(_row(row, with_change) for row in rows)
    return f'<table style="border-collapse:collapse"><tr>{head}</tr>{body}</table>'


def _run_line(title: str, run: Mapping[str, str]) -> str:
    parts = [f"{name}: {run[name]}" for name in RUN_FIELDS if run.get(name)]
    return f"<p><b>{_text(title)}</b> {_text('; '.join(parts))}</p>"


def _areas(comparison: Comparison, heading: str) -> list[str]:
    """Each area's ``heading`` (an HTML pattern for its name) and table, then the probes that
    are gone since the baseline."""
    parts = []
    for area, rows in comparison.areas():
        parts += [heading.format(_text(area)), _area_table(rows, comparison)]
    if comparison.gone:
        names = ", ".join(probe.name for probe in comparison.gone)
        parts.append(f"<p><b>In the baseline, not in this run:</b> {_text(names)}</p>")
    return parts


def matrix_table(comparison: Comparison) -> str:
    """The matrix for ``log.html``: the summary, then one table per area."""
    summary = f"<p><b>Docker conformance</b> {_text(comparison.summary())}</p>"
    return "".join([summary, *_areas(comparison, "<p><b>{}</b></p>")])


def matrix_page(comparison: Comparison) -> str:
    """``conformance.html``: a page of its own, readable without Robot's report."""
    target = comparison.run.get("target", "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_text(f'Docker conformance of {target}')}</title>",
        f"<style>{PAGE_STYLE}</style></head><body>",
        f"<h1>{_text(f'Docker conformance of {target}')}</h1>",
        _run_line("This run", comparison.run),
    ]
    if comparison.reference_run is not None:
        parts.append(_run_line("Docker Engine column from", comparison.reference_run))
    else:
        parts.append("<p><b>Docker Engine column:</b> no reference matrix was given</p>")
    if comparison.baseline_run is not None:
        parts.append(_run_line("Compared with the baseline", comparison.baseline_run))
    parts.append(f"<p>{_text(comparison.summary())}</p>")
    parts += [*_areas(comparison, "<h2>{}</h2>"), "</body></html>\n"]
    return "\n".join(parts)
