"""The conformance matrix: its JSON, the comparison with the Docker reference and with an earlier
run (what regressed, what was fixed), and the check against an expected matrix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from SockerlessLibrary.capping import LINE_LIMIT
from SockerlessLibrary.conformance import (
    FIXED,
    MESSAGE_LIMIT,
    NEW,
    NOT_MEASURED,
    REGRESSED,
    UNCHANGED,
    Expectation,
    Matrix,
    MatrixError,
    Probe,
    change_between,
    compare,
    expectation_lines,
    probe_message,
    read_expectations,
)
from SockerlessLibrary.conformance.__main__ import main
from SockerlessLibrary.masking import MASK, SECRETS

RUN = {"target": "unix:///tmp/x.sock", "mode": "ecs"}


def probe(name: str, status: str = "PASS", message: str = "", area: str = "Logs") -> Probe:
    return Probe(
        area=area, name=name, checks=f"{name}: Docker docs", status=status, message=message
    )


def matrix(*probes: Probe, run: dict[str, str] | None = None) -> Matrix:
    return Matrix(run or RUN, probes)


def test_a_matrix_survives_its_json_unchanged(tmp_path: Path) -> None:
    written = matrix(probe("Tail", "FAIL", "lines ['a'] <b>"), probe("Since", area="Logs"))
    path = tmp_path / "conformance.json"

    written.write(path)

    assert Matrix.read(path) == written
    document = json.loads(path.read_text())
    assert document["format"] == "sockerless-kit-conformance/1"
    assert [p["name"] for p in document["probes"]] == ["Tail", "Since"]
    assert not list(tmp_path.glob(".*"))  # no temporary file left beside it


def test_a_status_that_is_none_of_pass_fail_skip_is_refused() -> None:
    with pytest.raises(MatrixError, match="status 'ok' is not one of"):
        probe("Tail", "ok")


def test_a_probes_message_is_capped_per_line_and_in_all_saying_how_much_was_left_out() -> None:
    one_long_line = probe_message("x" * 3_000)
    many_lines = probe_message("\n".join(["y" * 100] * 40))  # 4,039 characters

    assert one_long_line == "x" * LINE_LIMIT + "... 2,000 more bytes"
    assert many_lines.startswith("y" * 100 + "\n") and len(many_lines) <= MESSAGE_LIMIT + 40
    assert many_lines.endswith(" more bytes")


def test_a_probes_message_is_masked() -> None:
    secret = "conformance-secret-0123456789abc"  # a value no other test uses
    SECRETS.add(secret)

    assert secret not in probe_message(f"the daemon said {secret}")
    assert MASK in probe_message(f"the daemon said {secret}")


def test_a_capped_message_is_kept_as_it_is_and_a_longer_one_from_a_file_is_cut() -> None:
    capped = probe_message("\n".join(["z" * 1_500] * 3))

    assert probe("Tail", "FAIL", capped).message == capped  # not cut a second time
    assert len(probe("Tail", "FAIL", "w" * 100_000).message) < LINE_LIMIT + 80


def test_probe_names_are_unique() -> None:
    with pytest.raises(MatrixError, match=r"come twice: \['Tail'\]"):
        matrix(probe("Tail"), probe("Tail", area="Other"))


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"format": "other"}, "is not a conformance matrix"),
        ([], "is not a conformance matrix"),
        ({"format": "sockerless-kit-conformance/1", "run": {}}, "needs a 'run' object"),
        (
            {"format": "sockerless-kit-conformance/1", "run": {}, "probes": [{"name": "x"}]},
            "has a probe that is not one",
        ),
    ],
)
def test_a_document_that_is_no_matrix_is_refused_naming_the_file(
    tmp_path: Path, document: object, problem: str
) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps(document))

    with pytest.raises(MatrixError, match=problem) as caught:
        Matrix.read(path)

    assert str(path) in str(caught.value)


def test_a_file_that_is_missing_or_not_json_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(MatrixError, match=r"cannot read .*missing\.json"):
        Matrix.read(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(MatrixError, match=r"bad\.json is not JSON"):
        Matrix.read(tmp_path / "bad.json")


@pytest.mark.parametrize(
    ("before", "now", "change"),
    [
        (None, "PASS", NEW),
        ("PASS", "PASS", UNCHANGED),
        ("FAIL", "FAIL", UNCHANGED),
        ("PASS", "FAIL", REGRESSED),
        ("FAIL", "PASS", FIXED),
        ("SKIP", "PASS", "changed"),
        ("PASS", "SKIP", "changed"),
    ],
)
def test_each_move_since_the_baseline_has_its_name(
    before: str | None, now: str, change: str
) -> None:
    assert change_between(before, now) == change


def test_the_comparison_marks_what_regressed_was_fixed_is_new_and_is_gone() -> None:
    baseline = matrix(
        probe("Tail", "PASS"), probe("Since", "FAIL"), probe("Until"), probe("Dropped")
    )
    current = matrix(
        probe("Tail", "FAIL", "first N"), probe("Since", "PASS"), probe("Until"), probe("Empty")
    )

    comparison = compare(current, baseline=baseline)

    assert [(row.probe.name, row.change, row.before) for row in comparison.rows] == [
        ("Tail", REGRESSED, "PASS"),
        ("Since", FIXED, "FAIL"),
        ("Until", UNCHANGED, "PASS"),
        ("Empty", NEW, None),
    ]
    assert [p.name for p in comparison.gone] == ["Dropped"]
    assert comparison.summary() == (
        "4 probes: 3 pass, 1 fail, 0 skip; since the baseline: 1 regressed, 1 fixed, 1 new, 1 gone"
    )


def test_without_a_baseline_nothing_is_marked_and_the_summary_says_only_the_counts() -> None:
    comparison = compare(matrix(probe("Tail"), probe("Since", "SKIP")))

    assert [row.change for row in comparison.rows] == [None, None]
    assert comparison.summary() == "2 probes: 1 pass, 0 fail, 1 skip"


def test_the_docker_column_is_the_reference_run_and_says_when_it_did_not_measure() -> None:
    reference = matrix(probe("Tail"), run={"target": "docker", "mode": "docker-only"})

    comparison = compare(matrix(probe("Tail", "FAIL"), probe("New")), reference=reference)

    assert [row.reference for row in comparison.rows] == ["PASS", NOT_MEASURED]
    assert comparison.reference_run == {"target": "docker", "mode": "docker-only"}


def test_areas_keep_the_order_they_ran_in() -> None:
    comparison = compare(
        matrix(probe("A", area="Logs"), probe("B", area="Exec"), probe("C", area="Logs"))
    )

    assert [(area, [r.probe.name for r in rows]) for area, rows in comparison.areas()] == [
        ("Logs", ["A", "C"]),
        ("Exec", ["B"]),
    ]


def test_expectations_pass_each_probe_with_its_status_and_message() -> None:
    ran = matrix(probe("Tail", "FAIL", "lines ['one'], expected ['four']"), probe("Since"))
    expected = {
        "Tail": Expectation("FAIL", r"expected \['four'\]"),
        "Since": Expectation("PASS"),
    }

    assert expectation_lines(ran, expected) == [
        "ok Tail: FAIL (lines ['one'], expected ['four'])",
        "ok Since: PASS",
    ]


def test_a_probe_that_departs_from_its_expectation_or_lacks_one_is_a_mismatch() -> None:
    ran = matrix(probe("Tail", "PASS"), probe("Since", "FAIL", "other\nreason"), probe("Extra"))
    expected = {
        "Tail": Expectation("FAIL", "first"),
        "Since": Expectation("FAIL", "^reason"),
        "Until": Expectation("PASS"),
    }

    assert expectation_lines(ran, expected) == [
        "MISMATCH Tail: expected FAIL /first/, got PASS: ",
        "MISMATCH Since: expected FAIL /^reason/, got FAIL: other | reason",
        "MISMATCH Extra: no expectation for this probe (PASS)",
        "MISMATCH Until: did not run",
    ]


def test_expectations_are_read_from_json_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "expected.json"
    path.write_text(json.dumps({"probes": {"Tail": {"status": "FAIL", "message": "first"}}}))
    assert read_expectations(path) == {"Tail": Expectation("FAIL", "first")}

    for bad, problem in (
        ({"Tail": "FAIL"}, "needs a 'probes' object"),
        ({"probes": {"Tail": {"status": "BROKEN"}}}, "expected status 'BROKEN'"),
        ({"probes": {"Tail": {"status": "FAIL", "message": "("}}}, "is no regex"),
        ({"probes": {"Tail": {"state": "FAIL"}}}, "not one"),
    ):
        path.write_text(json.dumps(bad))
        with pytest.raises(MatrixError, match=problem):
            read_expectations(path)


def test_a_matrix_is_expected_again_with_its_statuses(tmp_path: Path) -> None:
    reference = tmp_path / "docker-engine.json"
    matrix(probe("Tail"), probe("Since", "FAIL", "whatever")).write(reference)

    assert read_expectations(reference) == {
        "Tail": Expectation("PASS"),
        "Since": Expectation("FAIL"),
    }


def test_the_command_checks_a_matrix_and_fails_on_a_mismatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = tmp_path / "conformance.json"
    matrix(probe("Tail", "FAIL", "first N")).write(ran)
    expected = tmp_path / "expected.json"
    expected.write_text(json.dumps({"probes": {"Tail": {"status": "FAIL", "message": "first"}}}))

    assert main(["check", "--expected", str(expected), str(ran)]) == 0
    assert capsys.readouterr().out == "ok Tail: FAIL (first N)\n"

    expected.write_text(json.dumps({"probes": {"Tail": {"status": "PASS"}}}))
    assert main(["check", "--expected", str(expected), str(ran)]) == 1
    assert capsys.readouterr().out.startswith("MISMATCH Tail: expected PASS")


def test_the_command_writes_the_page_marking_changes_since_a_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, page = tmp_path / "old.json", tmp_path / "new.json", tmp_path / "page.html"
    matrix(probe("Tail", "PASS")).write(old)
    matrix(probe("Tail", "FAIL", "first N")).write(new)

    assert main(["page", str(new), "--baseline", str(old), "--output", str(page)]) == 0

    assert "regressed (was PASS)" in page.read_text()
    assert "1 regressed, 0 fixed" in capsys.readouterr().out


def test_the_command_says_why_a_file_cannot_be_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["page", str(tmp_path / "none.json"), "--output", str(tmp_path / "p.html")])

    assert code == 2
    assert "conformance: cannot read" in capsys.readouterr().err
    assert not (tmp_path / "p.html").exists()
