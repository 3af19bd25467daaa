"""The publication directory over HTTP, as harvesters see it: serve-archives (conditional GET, ETag, HEAD, ranges,
content types, hidden files), the RSS/DCAT/inventory feeds checked against the archive a harvester downloads, and
the published-datasets page in a real browser."""
from __future__ import annotations

import email.utils
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import lxml.etree
import lxml.html
import pytest
import rdflib
from dwca.read import DwCAReader
from rdflib.namespace import DCTERMS, RDF

from mobilise.publishers.feeds import IPT_NAMESPACE, collect_site, refresh_site
from mobilise.publishers.publication import PublicationLog
from mobilise.publishers.server import bind, server
from mobilise.settings import OutputConfig
from tests.conftest import sample_config
from tests.pipeline_helpers import run_stages
from tests import test_report

ADMS = rdflib.Namespace("http://www.w3.org/ns/adms#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")  # open: DCAT 3's version terms too
NON_NEGATIVE = rdflib.URIRef("http://www.w3.org/2001/XMLSchema#nonNegativeInteger")
chromium = test_report.chromium  # the headless Chromium fixture of the report's browser test
_severe = test_report._severe
SHORTNAME = "mobilise-sample"


class Served:
    """A uvicorn server for `directory` in a thread, on a free loopback port."""

    def __init__(self, directory: Path):
        self.socket = bind("127.0.0.1", 0)
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.server = server(directory, port=self.port, log_level="warning")
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> "Served":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


@pytest.fixture(scope="module")
def site(sample_db, tmp_path_factory):
    """The sample dataset published once (version 1.0) into an output directory served over HTTP, with
    output.base_url the server's URL: (config, output directory, server)."""
    output = tmp_path_factory.mktemp("site") / "output"
    output.mkdir()
    with pytest.MonkeyPatch.context() as monkeypatch, Served(output) as served:
        config = sample_config(f"sqlite:///{sample_db}", output, monkeypatch)
        config.output.base_url = served.url
        run_stages(config)
        yield config, output, served


@pytest.fixture
def client():
    with httpx.Client(timeout=30) as http:
        yield http


def _http_date(value: str) -> float:
    return email.utils.parsedate_to_datetime(value).timestamp()


def _read_archive(path: Path) -> tuple[int, str]:
    """(rows, core rowType) as python-dwca-reader reads them."""
    with DwCAReader(str(path)) as archive:
        rows = sum(1 for _ in archive)
        return rows, archive.descriptor.core.type


def _rss_items(http: httpx.Client, url: str) -> list[lxml.etree._Element]:
    response = http.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "application/rss+xml; charset=utf-8"
    root = lxml.etree.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    return root.findall("channel/item")


def _harvest(http: httpx.Client, served: Served, tmp_path: Path, log_entry) -> dict:
    """What a harvester does: the inventory, the archive it names (read with python-dwca-reader), the RSS item
    and the DCAT entry of the current version, each checked against the archive and the version log."""
    response = http.get(served.url + "inventory.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    (entry,) = [e for e in response.json()["registeredResources"] if e["shortname"] == SHORTNAME]
    assert entry["dwca"] == served.url + f"{SHORTNAME}/dwca.zip"  # absolute under output.base_url
    archive = http.get(entry["dwca"])
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    path = tmp_path / f"harvested-{log_entry.version}.zip"
    path.write_bytes(archive.content)
    rows, row_type = _read_archive(path)
    assert hashlib.sha256(archive.content).hexdigest() == log_entry.sha256
    assert rows == entry["records"] == log_entry.records > 0
    assert entry["version"] == log_entry.version
    assert entry["recordsByExtension"] == {row_type: rows} and entry["type"] == row_type.rsplit("/", 1)[-1]
    assert entry["lastPublished"] == log_entry.published[:10]
    eml = http.get(entry["eml"])
    assert eml.status_code == 200 and eml.headers["content-type"] == "application/xml; charset=utf-8"
    assert lxml.etree.fromstring(eml.content).find("dataset/title").text == entry["title"]

    # RSS: newest item first, the IPT's elements, the version's own archive (the same bytes)
    item = _rss_items(http, served.url + "rss.xml")[0]
    assert item.findtext("title").endswith(f" - Version {log_entry.version}")
    assert item.findtext("guid").endswith(f"/v{log_entry.version}")
    versioned = item.findtext(f"{{{IPT_NAMESPACE}}}dwca")
    assert versioned == served.url + f"{SHORTNAME}/dwca-{log_entry.version}.zip"
    assert hashlib.sha256(http.get(versioned).content).hexdigest() == log_entry.sha256
    enclosure = item.find("enclosure")
    assert enclosure.get("url") == versioned and int(enclosure.get("length")) == len(archive.content)
    assert f"{rows:,} records published" in item.findtext("description")
    assert _http_date(item.findtext("pubDate")) == datetime.fromisoformat(log_entry.published).timestamp()
    assert http.get(item.findtext(f"{{{IPT_NAMESPACE}}}eml")).status_code == 200

    # DCAT: the dataset's latest version and its distribution, the archive harvested above
    response = http.get(served.url + "dcat.ttl")
    assert response.status_code == 200 and response.headers["content-type"] == "text/turtle; charset=utf-8"
    graph = rdflib.Graph().parse(data=response.text, format="turtle", publicID=served.url + "dcat.ttl")
    (dataset,) = graph.subjects(DCAT.landingPage, rdflib.URIRef(served.url + f"index.html#{SHORTNAME}"))
    assert (dataset, RDF.type, DCAT.Dataset) in graph
    assert str(graph.value(dataset, ADMS.versionInfo)) == log_entry.version
    assert str(graph.value(dataset, DCTERMS.title)) == entry["title"]
    (distribution,) = [d for d in graph.objects(dataset, DCAT.distribution)  # the DwC-A (a DwC-DP is another)
                       if graph.value(d, DCTERMS["format"]) == rdflib.Literal("dwc-a")]
    assert str(graph.value(distribution, DCAT.downloadURL)) == entry["dwca"]
    assert graph.value(distribution, DCAT.byteSize) == rdflib.Literal(len(archive.content),
                                                                      datatype=NON_NEGATIVE)
    assert str(graph.value(distribution, DCTERMS.license)).startswith("https://creativecommons.org/")
    versions = {str(graph.value(v, DCAT.version)) for v in graph.objects(dataset, DCAT.hasVersion)}
    assert log_entry.version in versions
    return {"last_modified": archive.headers["last-modified"], "etag": archive.headers["etag"],
            "url": entry["dwca"], "versions": versions}


def test_harvest_as_gbif_crawler(site, client, tmp_path):
    """Done when of issue 11: harvest over HTTP, conditional GET 304 while unchanged, 200 with a new
    Last-Modified after a new version; RSS, DCAT and inventory agree with the archive read by python-dwca-reader."""
    config, output, served = site
    log = PublicationLog(output / SHORTNAME)
    first = _harvest(client, served, tmp_path, log.latest())

    # the crawler's next visit: nothing changed, so 304 and no body, by date and by entity tag
    unchanged = client.get(first["url"], headers={"If-Modified-Since": first["last_modified"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert client.get(first["url"], headers={"If-None-Match": first["etag"]}).status_code == 304
    refresh_site(output, config.output.base_url)  # a refresh with nothing new keeps the feeds' dates
    rss = client.head(served.url + "rss.xml")
    assert client.get(served.url + "rss.xml",
                      headers={"If-Modified-Since": rss.headers["last-modified"]}).status_code == 304

    # a new version (metadata changed), at least a second later: HTTP dates have one-second resolution
    time.sleep(max(0.0, 1.1 - (time.time() - (output / SHORTNAME / "dwca.zip").stat().st_mtime)))
    config.metadata.abstract = [*config.metadata.abstract, "Second version: the abstract says more."]
    try:
        result = run_stages(config)
    finally:
        config.metadata.abstract = config.metadata.abstract[:-1]
    assert result.version == log.latest().version != "1.0"
    changed = client.get(first["url"], headers={"If-Modified-Since": first["last_modified"]})
    assert changed.status_code == 200
    assert _http_date(changed.headers["last-modified"]) > _http_date(first["last_modified"])
    assert changed.headers["etag"] != first["etag"]
    assert client.get(first["url"], headers={"If-None-Match": first["etag"]}).status_code == 200
    second = _harvest(client, served, tmp_path, log.latest())
    assert second["versions"] == {"1.0", result.version}
    items = _rss_items(client, served.url + "rss.xml")
    assert [i.findtext("guid").rsplit("/v", 1)[1] for i in items] == [result.version, "1.0"]


def test_http_semantics(site, client):
    """HEAD, byte ranges, content types, no listing, hidden files never served, 405 for writes."""
    _, output, served = site
    dataset = output / SHORTNAME
    archive = (dataset / "dwca.zip").read_bytes()
    url = served.url + f"{SHORTNAME}/dwca.zip"

    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(archive) and head.headers["accept-ranges"] == "bytes"
    assert head.headers["last-modified"] and head.headers["etag"]

    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == archive[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(archive)}"
    tail = client.get(url, headers={"Range": "bytes=-22"})  # the zip's end-of-central-directory record
    assert tail.status_code == 206 and tail.content == archive[-22:] and tail.content.startswith(b"PK\x05\x06")
    assert client.get(url, headers={"Range": f"bytes={len(archive)}-"}).status_code == 416

    report_html, report_json = (p.name for p in sorted(dataset.glob("report-1.0.*")))
    expected = {"": "text/html; charset=utf-8", "index.html": "text/html; charset=utf-8",
                "rss.xml": "application/rss+xml; charset=utf-8", "dcat.ttl": "text/turtle; charset=utf-8",
                "inventory.json": "application/json", f"{SHORTNAME}/dwca.zip": "application/zip",
                f"{SHORTNAME}/dwca-1.0.zip": "application/zip",
                f"{SHORTNAME}/eml.xml": "application/xml; charset=utf-8",
                f"{SHORTNAME}/{report_html}": "text/html; charset=utf-8",
                f"{SHORTNAME}/{report_json}": "application/json",
                f"{SHORTNAME}/quarantine-1.0.csv": "text/csv; charset=utf-8"}
    for path, content_type in expected.items():
        response = client.get(served.url + path)
        assert (response.status_code, response.headers["content-type"]) == (200, content_type), path
    assert client.get(served.url).content == (output / "index.html").read_bytes()

    hidden = [".site.lock", f"{SHORTNAME}/.lock", f"{SHORTNAME}/.state/record-hashes-1.0.parquet",
              f"{SHORTNAME}/.dwca.zip.4242.partial", f"{SHORTNAME}/dwca-9.9.zip.partial", ".work/anything.parquet"]
    for path in hidden:
        (output / path).parent.mkdir(parents=True, exist_ok=True)
        (output / path).write_bytes(b"not for harvesters")
    try:
        for path in hidden + [f"{SHORTNAME}/", f"{SHORTNAME}", "no-such-file.zip", f"{SHORTNAME}/../.site.lock"]:
            assert client.get(served.url + path).status_code == 404, path
            assert client.head(served.url + path).status_code == 404, path
    finally:
        for path in hidden[1:]:
            (output / path).unlink()
    assert client.post(served.url + "rss.xml").status_code == 405


def test_only_existing_versions_not_removed_are_listed(site, tmp_path):
    """A version is listed when its archive exists and the log does not mark it removed; entries with keys this
    branch does not know (changes, eml, removed) are read; the change summary reaches the RSS and the page."""
    _, output, _ = site
    copy = tmp_path / "output"
    shutil.copytree(output / SHORTNAME, copy / SHORTNAME, ignore=shutil.ignore_patterns(".*"))
    dataset = copy / SHORTNAME
    log_path = dataset / "publications.json"
    versions = json.loads(log_path.read_text())["versions"]
    published = [v["version"] for v in reversed(versions)]  # 1.0, and 1.1 when the harvest test ran first
    template = dict(versions[0])
    shutil.copy(dataset / "dwca-1.0.zip", dataset / "dwca-7.1.zip")
    shutil.copy(dataset / "dwca-1.0.zip", dataset / "dwca-7.2.zip")
    (dataset / "eml-7.2.xml").write_bytes((dataset / "eml.xml").read_bytes())
    versions += [
        template | {"version": "7.0", "archive": "dwca-7.0.zip", "published": "2030-01-01T00:00:00+00:00"},  # no file
        template | {"version": "7.1", "archive": "dwca-7.1.zip", "published": "2030-01-02T00:00:00+00:00",
                    "removed": True},
        template | {"version": "7.2", "archive": "dwca-7.2.zip", "published": "2030-01-03T00:00:00+00:00",
                    "eml": "eml-7.2.xml", "changes": {"added": 12, "removed": 3, "changed": 40,
                                                      "previous_version": "1.0"}, "a_future_key": [1, 2]}]
    log_path.write_text(json.dumps({"versions": versions}))
    refresh_site(copy, None)
    listed = {v.version for d in collect_site(copy) for v in d.versions}
    assert "7.2" in listed and not listed & {"7.0", "7.1"}

    items = lxml.etree.parse(str(copy / "rss.xml")).findall("channel/item")
    assert items[0].findtext("title").endswith("Version 7.2")
    assert "Records 12 added, 3 removed, 40 changed since version 1.0" in items[0].findtext("description")
    assert items[0].findtext(f"{{{IPT_NAMESPACE}}}eml") == f"{SHORTNAME}/eml-7.2.xml"  # relative: no base_url
    assert items[0].findtext(f"{{{IPT_NAMESPACE}}}dwca") == f"{SHORTNAME}/dwca-7.2.zip"
    assert not [i for i in items if i.findtext("title").endswith(("Version 7.0", "Version 7.1"))]
    inventory = json.loads((copy / "inventory.json").read_text())["registeredResources"]
    assert [(e["version"], e["dwca"]) for e in inventory] == [("7.2", f"{SHORTNAME}/dwca.zip")]

    page = lxml.html.parse(str(copy / "index.html")).getroot()
    rows = page.xpath(f"//section[@id='{SHORTNAME}']//table[@class='versions']/tbody/tr")
    assert [r.find("th").text_content().split()[0] for r in rows] == ["7.2", *published]
    assert "12 added, 3 removed, 40 changed" in rows[0].text_content()
    # unchanged logs, unchanged files: the refresh is idempotent and leaves no temporary file
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in copy.iterdir() if p.is_file()}
    refresh_site(copy, None)
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in copy.iterdir() if p.is_file()} == before
    assert not list(copy.rglob("*.partial"))


def test_empty_and_damaged_datasets_leave_the_site_up(site, tmp_path):
    """No dataset: empty indexes; a dataset whose log is unreadable is left out, one without eml.xml is listed by
    its short name: one damaged folder never takes the site down."""
    refresh_site(tmp_path / "empty", None)
    assert json.loads((tmp_path / "empty" / "inventory.json").read_text()) == {"registeredResources": []}
    assert lxml.etree.parse(str(tmp_path / "empty" / "rss.xml")).findall("channel/item") == []
    assert "No dataset has been published yet." in (tmp_path / "empty" / "index.html").read_text()

    _, output, _ = site
    copy = tmp_path / "output"
    shutil.copytree(output / SHORTNAME, copy / "broken-log", ignore=shutil.ignore_patterns(".*"))
    (copy / "broken-log" / "publications.json").write_text("{not json")
    shutil.copytree(output / SHORTNAME, copy / "no-eml", ignore=shutil.ignore_patterns(".*"))
    (copy / "no-eml" / "eml.xml").unlink()
    refresh_site(copy, None)
    inventory = json.loads((copy / "inventory.json").read_text())["registeredResources"]
    assert [(e["shortname"], e["title"], e["eml"]) for e in inventory] == [("no-eml", "no-eml", None)]


def test_base_url_is_an_http_url():
    assert OutputConfig(base_url="https://data.example.org/dwca").base_url == "https://data.example.org/dwca/"
    assert OutputConfig().base_url is None
    for wrong in ("data.example.org", "ftp://data.example.org/", "https://data.example.org/?x=1"):
        with pytest.raises(ValueError, match="base_url"):
            OutputConfig(base_url=wrong)


def test_serve_archives_command(site, client):
    """The CLI command over a real socket, in its own process; a missing directory is a usage error."""
    _, output, _ = site
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    missing = subprocess.run([sys.executable, "-m", "mobilise.cli", "serve-archives", str(output / "nowhere")],
                             capture_output=True, text=True, env=environment, timeout=60)
    assert missing.returncode == 2 and "no such directory" in missing.stderr
    process = subprocess.Popen([sys.executable, "-m", "mobilise.cli", "serve-archives", str(output), "--port", "0"],
                               stderr=subprocess.PIPE, text=True, env=environment)
    try:
        line = process.stderr.readline()
        assert line.startswith(f"serving {output.resolve()} at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].split()[0]
        response = client.get(url + "rss.xml")
        assert response.status_code == 200 and response.content == (output / "rss.xml").read_bytes()
    finally:
        process.terminate()
        process.wait(30)


@pytest.mark.browser
def test_published_datasets_page_in_chromium(site, chromium, client):
    """The page as served: no console error, every link answered 200 by serve-archives (or, outside the site,
    only the licence), and the same links exist as files beside it."""
    _, output, served = site
    chromium.set_window_size(1280, 1000)
    chromium.get(served.url)
    assert chromium.title == "Published datasets"
    section = chromium.find_element("css selector", f"section#{SHORTNAME}")
    assert "Sample natural history collection" in section.find_element("css selector", "h2").text
    assert "Latest validation" in section.text and "Versions" in section.text
    links = [a.get_attribute("href") for a in chromium.find_elements("css selector", "a[href]")]
    relative = [a.get("href") for a in lxml.html.parse(str(output / "index.html")).getroot().xpath("//a[@href]")]
    assert len(links) == len(relative) > 6
    outside = []
    for link in links:
        if not link.startswith(served.url):
            outside.append(link)
            continue
        target = link.split("#", 1)[0]
        assert client.get(target).status_code == 200, link
    assert all(urlsplit(link).netloc == "creativecommons.org" for link in outside), outside
    for href in relative:
        if "://" not in href:
            path = urlsplit(urljoin("http://x/", href)).path.lstrip("/") or "index.html"
            assert (output / path).is_file(), href
    chromium.set_window_size(390, 900)  # narrow screens: the tables scroll inside their box, the page does not
    assert chromium.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    assert _severe(chromium) == []


def test_current_copies_are_served_from_the_log_commit(site, client):
    """A run killed between its log commit and the swap of dwca.zip/eml.xml leaves the old copies on disk: the
    server answers the version publications.json names (its commit point), never one the log has moved past."""
    _, output, served = site
    dataset = output / SHORTNAME
    latest = PublicationLog(dataset).latest()
    current, eml = dataset / "dwca.zip", dataset / "eml.xml"
    kept = {path: path.read_bytes() for path in (current, eml)}
    try:
        for path in (current, eml):  # what a killed swap leaves: other bytes under the current names
            path.unlink()
            path.write_bytes(b"the previous version")
        archive = client.get(served.url + f"{SHORTNAME}/dwca.zip")
        assert archive.status_code == 200 and hashlib.sha256(archive.content).hexdigest() == latest.sha256
        assert client.get(served.url + f"{SHORTNAME}/eml.xml").content == (dataset / latest.eml).read_bytes()
    finally:
        for path, content in kept.items():
            path.unlink()
            path.write_bytes(content)
