"""Draws a test's timeline (an entry of ``timeline.json``) as an inline SVG Gantt chart.

One block per container, with up to three lanes on the kit's time axis: its Docker calls, its
ECS task's phases and, when the daemon served its logs, the first line's way from CloudWatch.
Each bar is labelled with its seconds: inside when the text fits, else above or below it, else
(too crowded) only in its tooltip. The chart is 960 px wide, so ``log.html`` shows it at full
size, without zooming.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from .timeline import seconds_text

WIDTH = 960
LEFT = 150  # lane names
RIGHT = 16
AXIS_TOP = 60  # title, summary line, tick labels
LANE = 40  # label row above, bar, label row below
BAR = 16
HEADER = 20
GAP = 8
FONT = 11
CHAR_WIDTH = 6.3  # average width of an 11 px sans-serif character, generously
PADDING = 4
LANES = (("docker", "Docker API (kit)"), ("ecs", "ECS task"), ("logs", "first log line"))
COLOURS = {
    "docker": "#4d7ea8",
    "provisioning": "#f4a261",
    "pull": "#e9c46a",
    "container start": "#90be6d",
    "running": "#43aa8b",
    "stopping": "#577590",
    "deprovisioning": "#8d99ae",
    "CloudWatch delivery": "#b56576",
    "until served": "#e5989b",
}
COMBINED = "#c8c8c8"  # a span over timestamps ECS did not report
MARKER = "#d62828"


def tick_step(span: float, wanted: int = 8) -> float:
    """A 1/2/5 x 10^k step giving about ``wanted`` ticks over ``span`` seconds."""
    span = max(span, 1e-3)
    power = 10 ** math.floor(math.log10(span / wanted))
    for factor in (1, 2, 5):
        if span / (factor * power) <= wanted + 2:
            return float(factor * power)
    return float(10 * power)


def text_width(text: str) -> float:
    """Estimated rendered width of ``text`` at the chart's font size."""
    return len(text) * CHAR_WIDTH


def _fits(row: list[tuple[float, float]], low: float, high: float) -> bool:
    """Whether a label from ``low`` to ``high`` clears the labels already in a label row."""
    return all(high + PADDING <= a or low >= b + PADDING for a, b in row)


@dataclass
class _Canvas:
    origin: float
    scale: float
    parts: list[str] = field(default_factory=list)

    def x(self, moment: float) -> float:
        return LEFT + (moment - self.origin) * self.scale

    def text(self, x: float, y: float, content: str, **attributes: str) -> None:
        extra = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in attributes.items())
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>')


def _lane(canvas: _Canvas, top: float, title: str, phases: Sequence[Mapping[str, Any]]) -> None:
    bar_top = top + (LANE - BAR) / 2
    canvas.text(8, bar_top + BAR - 4, title, fill="#333")
    above: list[tuple[float, float]] = []  # label extents taken in the row above the bar
    below: list[tuple[float, float]] = []
    # A phase of no length (ECS stamped both ends at once: a container's own exit is also the
    # moment its task starts stopping) has nothing to draw; the JSON keeps it.
    drawn = [p for p in phases if p["lane"] == "docker" or float(p["seconds"]) > 0]
    for index, phase in enumerate(drawn):
        start, end = canvas.x(float(phase["start"])), canvas.x(float(phase["end"]))
        width = max(end - start, 2.0)
        short = seconds_text(float(phase["seconds"]))
        long = f"{phase['name']} {short}"
        docker = phase["lane"] == "docker"  # Docker calls share one colour, phases have their own
        fill = COLOURS["docker"] if docker else COLOURS.get(phase["name"], COMBINED)
        canvas.parts.append(
            f'<rect x="{start:.1f}" y="{bar_top:.1f}" width="{width:.1f}" height="{BAR}" '
            f'fill="{fill}" stroke="#fff" stroke-width="0.5"><title>{escape(long)}</title></rect>'
        )
        middle = start + width / 2
        inside = next((label for label in (long, short) if text_width(label) + 4 <= width), None)
        if inside is not None:
            ink = "#fff" if docker else "#111"
            canvas.text(middle, bar_top + BAR - 4, inside, text_anchor="middle", fill=ink)
            continue
        # Centred on the bar, but kept inside the plot.
        half = text_width(long) / 2
        centre = min(max(middle, LEFT + half), WIDTH - RIGHT - half)
        low, high = centre - half, centre + half
        rows = (above, below) if index % 2 == 0 else (below, above)
        for row in rows:
            if _fits(row, low, high):
                row.append((low, high))
                y = top + FONT - 1 if row is above else top + LANE - 1
                canvas.text(centre, y, long, text_anchor="middle", fill="#333")
                break


def _marker(canvas: _Canvas, top: float, moment: float, label: str) -> None:
    x = canvas.x(moment)
    middle = top + LANE / 2
    canvas.parts.append(
        f'<path d="M{x:.1f} {middle - 7:.1f} L{x + 5:.1f} {middle:.1f} L{x:.1f} {middle + 7:.1f} '
        f'L{x - 5:.1f} {middle:.1f} Z" fill="{MARKER}"><title>{escape(label)}</title></path>'
    )


def _axis(canvas: _Canvas, span: float, bottom: float) -> None:
    step = tick_step(span)
    count = int(span / step) + 1
    for number in range(count + 1):
        offset = number * step
        if offset > span + 1e-9:
            break
        x = LEFT + offset * canvas.scale
        canvas.parts.append(
            f'<line x1="{x:.1f}" y1="{AXIS_TOP - 4}" x2="{x:.1f}" y2="{bottom:.1f}" '
            'stroke="#e4e4e4"/>'
        )
        canvas.text(x, AXIS_TOP - 6, f"{offset:g} s", text_anchor="middle", fill="#555")


def _legend(canvas: _Canvas, top: float, keys: Sequence[tuple[str, str]]) -> float:
    """Coloured squares with their meaning, wrapped; returns the y below them."""
    x = float(LEFT)
    for label, fill in keys:
        label_width = text_width(label) + 24
        if x + label_width > WIDTH - RIGHT:
            x, top = float(LEFT), top + 18
        canvas.parts.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="12" height="12" fill="{fill}"/>'
        )
        canvas.text(x + 16, top + 10, label, fill="#333")
        x += label_width
    return top + 18


def _notes(entry: Mapping[str, Any]) -> list[str]:
    clock = entry["clock"]
    low, high = clock["offset_low"], clock["offset_high"]
    lowest = "-inf" if low is None else f"{low:+.3f}"
    highest = "+inf" if high is None else f"{high:+.3f}"
    bounds = f"{lowest} .. {highest}"
    notes = [
        f"Axis: the kit's clock. AWS timestamps are drawn {0.0 - clock['offset']:+.3f} s off; the "
        f"start calls bound AWS minus kit to {bounds} s: {clock['note']}."
    ]
    for container in entry["containers"]:
        for task in container["tasks"]:
            missing = task["not_reported"]
            parts = ["not reported: " + ", ".join(missing)] if missing else []
            if task["timestamp_resolution"] >= 1:
                parts.append("timestamps in whole seconds")
            if parts:
                notes.append(f"{container['short_id']}: {'; '.join(parts)}.")
    return notes


def render_svg(entry: Mapping[str, Any]) -> str:
    """The SVG of one test's timeline entry (``""`` when it has no container)."""
    containers = list(entry["containers"])
    if not containers or entry.get("origin") is None:
        return ""
    origin = float(entry["origin"])
    ends = [float(p["end"]) for c in containers for p in c["phases"]]
    ends += [float(c["exit_seen"]) for c in containers if c["exit_seen"] is not None]
    span = max(max(ends, default=origin) - origin, 1e-3)
    canvas = _Canvas(origin, (WIDTH - LEFT - RIGHT) / span)
    canvas.text(8, 14, f"{entry['test']}", font_weight="bold", fill="#111")
    canvas.text(8, 32, f"{entry['summary']}", fill="#333")
    top = float(AXIS_TOP)
    used: list[str] = []
    body: list[str] = []
    canvas.parts, body = body, canvas.parts  # draw the blocks first, the grid goes under them
    for container in containers:
        canvas.text(8, top + 14, container["short_id"], font_weight="bold", fill="#111")
        canvas.text(LEFT, top + 14, container["command"][:110], fill="#333")
        top += HEADER
        for lane, title in LANES:
            phases = [p for p in container["phases"] if p["lane"] == lane]
            if lane == "docker" or phases:
                _lane(canvas, top, title, phases)
                if lane == "docker" and container["exit_seen"] is not None:
                    _marker(canvas, top, float(container["exit_seen"]), "exit seen by the kit")
                used += [
                    p["name"]
                    for p in phases
                    if lane != "docker" and float(p["seconds"]) > 0 and p["name"] not in used
                ]
                top += LANE
        top += GAP
    blocks, canvas.parts = canvas.parts, body
    _axis(canvas, span, top)
    canvas.parts += blocks
    legend = [("Docker call", COLOURS["docker"])]
    legend += [(name, COLOURS[name]) for name in COLOURS if name in used and name != "docker"]
    legend.append(("exit seen by the kit", MARKER))
    if any(name not in COLOURS for name in used):
        legend.append(("not split: ECS did not report the timestamps in between", COMBINED))
    top = _legend(canvas, top + 4, legend)
    for note in _notes(entry):
        canvas.text(8, top + 12, note, fill="#555")
        top += 16
    height = top + 8
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" font-family="sans-serif" font-size="{FONT}" '
        'style="background:#fff;max-width:100%;height:auto">' + "".join(canvas.parts) + "</svg>"
    )


def render_page(entries: Sequence[Mapping[str, Any]]) -> str:
    """A standalone HTML page with every entry's chart (the command line's output)."""
    charts = "".join(f"<div>{render_svg(entry)}</div>" for entry in entries if entry["containers"])
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Fargate timelines</title>'
        '</head><body style="margin:8px;background:#fff">' + charts + "</body></html>"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m SockerlessLibrary.timeline_svg timeline.json [--test TEXT] [-o page.html]``."""
    parser = argparse.ArgumentParser(
        prog="python -m SockerlessLibrary.timeline_svg",
        description="Draw the Fargate timelines of a run's timeline.json as one HTML page.",
    )
    parser.add_argument("document", type=Path, help="a timeline.json written by a robot run")
    parser.add_argument("--test", default="", help="only tests whose name contains this text")
    parser.add_argument("-o", "--output", type=Path, help="where to write (default: stdout)")
    options = parser.parse_args(argv)
    try:
        data = json.loads(options.document.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"cannot read {options.document}: {error}", file=sys.stderr)
        return 2
    wanted = options.test.lower()
    entries = [entry for entry in data.get("tests", []) if wanted in str(entry["test"]).lower()]
    if not entries:
        print(f"no test matching {options.test!r} in {options.document}", file=sys.stderr)
        return 1
    page = render_page(entries)
    if options.output is None:
        sys.stdout.write(page)
    else:
        options.output.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
