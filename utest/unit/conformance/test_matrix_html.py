"""The matrix as HTML: every cell is text, whatever a daemon put into the kit's message."""

from __future__ import annotations

from markup import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, parsed

from SockerlessLibrary.conformance import Comparison, Matrix, Probe, compare
from SockerlessLibrary.conformance.html import matrix_page, matrix_table

HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> "
    "\"quoted\" 'single' & http://evil.example/x"
)


def hostile_comparison() -> Comparison:
    probes = (
        Probe(HOSTILE, "Name " + HOSTILE, "checks " + HOSTILE, "FAIL", "message " + HOSTILE),
        Probe("Logs", "Tail", "`--tail`", "PASS"),
    )
    run = {"target": HOSTILE, "mode": "ecs", "label": HOSTILE}
    baseline = Matrix(run, (Probe("Logs", "Tail", "`--tail`", "FAIL"),))
    return compare(Matrix(run, probes), baseline=baseline, reference=baseline)


def test_hostile_text_in_any_cell_is_shown_as_text_never_as_markup() -> None:
    comparison = hostile_comparison()

    for markup in (matrix_table(comparison), matrix_page(comparison)):
        found = parsed(markup)
        assert found.tags <= ALLOWED_TAGS, found.tags - ALLOWED_TAGS
        assert found.attributes <= ALLOWED_ATTRIBUTES
        assert "<script>" not in markup and "<img" not in markup
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
        assert HOSTILE in "".join(found.text)  # every character still there, as text


def test_the_page_groups_probes_by_area_with_the_docker_column_and_the_change() -> None:
    run = {"target": "unix:///tmp/d.sock", "mode": "ecs", "written": "2026-12-06T10:00:00Z"}
    current = Matrix(
        run,
        (
            Probe("Logs", "Tail", "`--tail 2`", "FAIL", "first two"),
            Probe("Exec", "Exit Code", "`exit 7`", "PASS"),
        ),
    )
    reference = Matrix({"target": "docker"}, (Probe("Logs", "Tail", "`--tail 2`", "PASS"),))
    baseline = Matrix({"target": "old"}, (Probe("Logs", "Tail", "`--tail 2`", "PASS"),))

    page = matrix_page(compare(current, baseline=baseline, reference=reference))

    text = " ".join(parsed(page).text)
    assert page.index(">Logs</h2>") < page.index(">Exec</h2>")
    assert "Docker Engine column from" in text and "target: docker" in text
    assert "regressed (was PASS)" in text and "new" in text
    assert "not measured" in text  # Exit Code has no reference result
    assert "2 probes: 1 pass, 1 fail, 0 skip; since the baseline: 1 regressed" in text


def test_the_log_table_has_one_table_per_area_and_the_summary() -> None:
    current = Matrix(
        {"target": "t"},
        (Probe("Logs", "Tail", "d", "PASS"), Probe("Exec", "Code", "d", "FAIL", "0 != 7")),
    )

    table = matrix_table(compare(current))

    assert table.count("<table") == 2
    assert table.startswith("<p><b>Docker conformance</b> 2 probes: 1 pass, 1 fail")
    assert "Since the baseline" not in table  # no baseline, no column
