"""Reports that read well in CI, where they are opened long after the run.

* the report is named after the kit ("Sockerless ECS Acceptance Report"), not "Suites Report";
* no metadata value is a link: the embedded simulator's socket and AWS endpoint are gone when the
  report is read, so they are named; a real daemon's address and endpoint are shown as code;
* the run's Fargate usage is top-level metadata, which is what report.html's summary shows.

The report is read the way a browser gets it: the model robot embeds in report.html, with each
metadata value as the HTML the summary table shows.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from robot.utils import html_format

from SockerlessLibrary.aws.config import AwsConfig
from SockerlessLibrary.target import EMBEDDED, SOCKERLESS, ActiveTarget, report_metadata

pytestmark = pytest.mark.timeout(120)

LINK = re.compile(r"<a\s", re.IGNORECASE)


def rendered(metadata: dict[str, str]) -> dict[str, str]:
    """Each value as report.html shows it (robot formats metadata values as HTML)."""
    return {name: paragraph(html_format(value)) for name, value in metadata.items()}


def paragraph(html: str) -> str:
    """The text of robot's one-paragraph HTML (``<p>...</p>``)."""
    assert html.startswith("<p>") and html.endswith("</p>"), html
    return html[3:-4]


def test_the_embedded_simulator_is_named_not_addressed() -> None:
    target = ActiveTarget(
        kind=EMBEDDED,
        host="unix:///tmp/sockerless-sim-x1y2/docker.sock",
        aws=AwsConfig(endpoint_url="http://127.0.0.1:36845", cluster="sockerless-sim"),
    )
    metadata = report_metadata(target, "1.44", "20261203T101112Z-1a2b3c")
    assert metadata == {
        "Target": "embedded simulator",
        "Daemon": "embedded simulator (API 1.44)",
        "Region": "us-east-1",
        "Cluster": "sockerless-sim",
        "Run Id": "20261203T101112Z-1a2b3c",
        "AWS endpoint": "embedded simulator (moto)",
    }
    assert not any("://" in value for value in metadata.values())


@pytest.mark.parametrize(
    ("host", "endpoint", "daemon", "aws"),
    [
        (
            "unix:///var/run/sockerless.sock",
            "http://127.0.0.1:4566",
            "<code>unix:///var/run/sockerless.sock</code> (API 1.44)",
            "<code>http://127.0.0.1:4566</code>",
        ),
        ("tcp://sockerless:2375", None, "<code>tcp://sockerless:2375</code>", "AWS"),
        ("http://sockerless:2375", None, "<code>http://sockerless:2375</code>", "AWS"),
    ],
)
def test_a_real_targets_addresses_show_as_code_and_never_as_links(
    host: str, endpoint: str | None, daemon: str, aws: str
) -> None:
    target = ActiveTarget(kind=SOCKERLESS, host=host, aws=AwsConfig(endpoint_url=endpoint))
    shown = rendered(report_metadata(target, "1.44", "run-1"))
    assert shown["Daemon"].startswith(daemon)
    assert shown["AWS endpoint"] == aws
    assert not any(LINK.search(value) for value in shown.values()), shown
    # The plain address, as it was shown before, is what robot turns into a link.
    assert LINK.search(html_format(f"{host} (API 1.44)"))


def test_a_lying_simulator_still_says_so() -> None:
    target = ActiveTarget(kind=EMBEDDED, host="unix:///tmp/x.sock", aws=AwsConfig())
    metadata = report_metadata(target, "1.44", "run-1", ("ip-mismatch", "no-task"))
    assert metadata["Simulator lies"] == "ip-mismatch, no-task"


def report_model(report: Path) -> tuple[dict[str, Any], list[Any], list[str]]:
    """The settings, the suite model and the decoded string table robot embeds in report.html.

    Strings starting with ``*`` are stored as they are, the others zlib-compressed in base64.
    """
    # Robot writes "</" as the JavaScript escape "\x3c/", which JSON does not know.
    text = report.read_text().replace("\\x3c/", "</")

    def embedded(pattern: str) -> Any:
        found = re.search(pattern, text)
        assert found, pattern
        return json.loads(found.group(1))

    settings = embedded(r"window\.settings = (\{.*?\});")
    suite = embedded(r'window\.output\["suite"\] = (\[.*?\]);\n')
    strings = [
        item[1:] if item.startswith("*") else zlib.decompress(base64.b64decode(item)).decode()
        for chunk in re.findall(r'window\.output\["strings"\]\.concat\((\[.*?\])\);', text)
        for item in json.loads(chunk)
    ]
    return settings, suite, strings


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, run_kit: Callable[..., None]) -> Path:
    """The configuration suite (no Fargate task) run by the command, as a CI job runs it."""
    work = tmp_path_factory.mktemp("run")
    run_kit(work, "--exclude", "slow", "--outputdir", "results")
    return work / "results" / "report.html"


@pytest.mark.slow
def test_the_report_is_named_after_the_kit(report: Path) -> None:
    settings, suite, strings = report_model(report)
    assert not settings["title"]  # so the page reads "<top suite name> Report"
    assert strings[suite[0]] == "Sockerless ECS Acceptance"


@pytest.mark.slow
def test_the_summary_shows_the_fargate_usage_and_no_link(report: Path) -> None:
    _, suite, strings = report_model(report)
    pairs = suite[4]  # the top suite's metadata: name and value indexes, alternating
    summary = {strings[pairs[i]]: paragraph(strings[pairs[i + 1]]) for i in range(0, len(pairs), 2)}
    assert summary["Fargate tasks"] == "0"
    assert summary["Fargate task-seconds"] == "0.0"
    assert re.fullmatch(
        r"0 used, 0 declared by the selected tests, not enforced: the target is the embedded "
        r"simulator \(no Fargate task costs anything\) \(budget id \S+\)",
        summary["Fargate task budget"],
    )
    assert summary["Target"] == "embedded simulator"
    assert re.fullmatch(r"embedded simulator \(API 1\.\d+\)", summary["Daemon"])
    assert summary["AWS endpoint"] == "embedded simulator (moto)"
    assert not any(LINK.search(value) or "://" in value for value in summary.values()), summary
