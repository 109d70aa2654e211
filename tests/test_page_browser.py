"""The rendered leaderboard in a real headless Chromium (Debian's ``chromium`` + ``chromium-driver``).

Loads ``index.html`` from disk (no server, no network), checks that the table has one row per
entry, that clicking a column header sorts by it (both directions), that the per-sample viewer
opens, and saves screenshots to the ``artifacts_dir`` fixture. Without Chromium the test skips,
except under ``CI`` where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from comic_emotion.leaderboard import add_results, read_board, render
from comic_emotion.leaderboard.render import VIEWER_PAGE_ROWS, page_data
from test_leaderboard import write_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        message = "Debian packages chromium and chromium-driver are not installed"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must install them (apt-get install -y chromium chromium-driver)")
        pytest.skip(message)
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look for drivers online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _column(driver, index: int) -> list[str]:
    return [row.find_elements("css selector", "td")[index].text.split("\n")[0]
            for row in driver.find_elements("css selector", "#leaderboard tbody tr")]


def test_page_renders_sorts_and_links_the_sample_viewer(browser, tmp_path, artifacts_dir):
    board = tmp_path / "board.json"
    runs = [write_run(tmp_path / f"run{i}", model=f"model-{name}", n=40, correct=correct, seed=i)
            for i, (name, correct) in enumerate([("alpha", 0.45), ("beta", 0.9), ("gamma", 0.65), ("delta", 0.62)])]
    add_results(board, runs, allow_demo=True)
    index = render(board, tmp_path / "site", runs=runs[1:2])
    browser.get(index.as_uri())
    rows = browser.find_elements("css selector", "#leaderboard tbody tr")
    assert len(rows) == 4
    assert browser.find_element("id", "demo-banner").is_displayed()
    overall = _column(browser, 2)
    assert [float(v) for v in overall] == sorted((float(v) for v in overall), reverse=True)  # default: by rank
    assert _column(browser, 1)[0] == "model-beta"
    ranks = page_data(read_board(board))["ranks"]["overall"]
    assert [int(v.rstrip(" =")) for v in _column(browser, 0)] == sorted(r["rank"] for r in ranks)
    shown_ties = [row.find_elements("css selector", "td")[0].text.endswith("=")
                  for row in browser.find_elements("css selector", "#leaderboard tbody tr")]
    assert sum(shown_ties) == sum(r["tied"] for r in ranks)

    browser.find_element("css selector", 'th[data-sort="model"]').click()
    assert _column(browser, 1) == ["model-alpha", "model-beta", "model-delta", "model-gamma"]
    browser.find_element("css selector", 'th[data-sort="model"]').click()
    assert _column(browser, 1) == ["model-gamma", "model-delta", "model-beta", "model-alpha"]
    header = browser.find_element("css selector", 'th[data-sort="task:comic_emotion_manga"]')
    header.click()
    manga = [float(v) for v in _column(browser, 4)]
    assert manga == sorted(manga, reverse=True)
    assert browser.find_element("css selector", 'th[data-sort="task:comic_emotion_manga"]').get_attribute(
        "aria-sort") == "descending"
    browser.find_element("css selector", 'th[data-sort="rank"]').click()
    browser.save_screenshot(str(artifacts_dir / "leaderboard.png"))

    browser.find_element("link text", "samples →").click()
    samples = browser.find_elements("css selector", "table.samples tbody tr")
    assert len(samples) == 3 * VIEWER_PAGE_ROWS  # the first page of each task; the rest load on demand
    wrong = sum("incorrect" in row.text for row in samples)
    browser.find_element("css selector", 'input[value="bad"]').click()
    visible = [row for row in browser.find_elements("css selector", "table.samples tbody tr") if row.is_displayed()]
    assert len(visible) == wrong > 0
    browser.save_screenshot(str(artifacts_dir / "leaderboard-samples.png"))


def test_sample_viewer_loads_later_pages_on_demand_from_file_urls(browser, tmp_path, artifacts_dir):
    import json

    from selenium.webdriver.support.ui import WebDriverWait

    run = write_run(tmp_path / "run", n=50, correct=0.6)
    board = tmp_path / "board.json"
    add_results(board, [run], allow_demo=True)
    render(board, tmp_path / "site", runs=[run])
    (viewer,) = (tmp_path / "site" / "samples").glob("*.html")
    chunks = sorted(p.relative_to(viewer.parent).as_posix() for p in viewer.parent.rglob("*.js"))
    key = viewer.stem
    assert chunks == sorted(f"{key}/{t}-p{n}.js" for t in ("comic_emotion_art", "comic_emotion_comic",
                                                            "comic_emotion_manga") for n in (2, 3))
    log = [json.loads(line) for line in (run.parent / run.name.replace("results.json", "samples_comic_emotion_comic.jsonl"))
           .read_text().splitlines()]
    ids = [row["macro_f1"]["id"] for row in log]
    assert ids[VIEWER_PAGE_ROWS] not in viewer.read_text()  # page 2 is not in the first paint

    browser.get(viewer.as_uri())
    section = browser.find_element("css selector", 'section[data-task="comic_emotion_comic"]')

    def shown_ids() -> list[str]:  # read in one script: the rows are replaced when a page is drawn
        return browser.execute_script("return Array.from(arguments[0].querySelectorAll('tbody tr'))"
                                      ".map(function (r) { return r.cells[1].textContent; });", section)

    assert shown_ids() == ids[:VIEWER_PAGE_ROWS]
    section.find_element("css selector", 'button[data-go="1"]').click()
    WebDriverWait(browser, 10).until(lambda _: shown_ids() == ids[VIEWER_PAGE_ROWS:2 * VIEWER_PAGE_ROWS])
    assert section.find_element("css selector", ".page-label").text == "page 2 of 3"
    browser.execute_script("arguments[0].scrollIntoView()", section)
    browser.save_screenshot(str(artifacts_dir / "leaderboard-samples-page2.png"))
    section.find_element("css selector", 'button[data-go="1"]').click()
    WebDriverWait(browser, 10).until(lambda _: shown_ids() == ids[2 * VIEWER_PAGE_ROWS:])
    assert not section.find_element("css selector", 'button[data-go="1"]').is_enabled()
    section.find_element("css selector", 'button[data-go="-1"]').click()
    assert shown_ids() == ids[VIEWER_PAGE_ROWS:2 * VIEWER_PAGE_ROWS]  # cached: no second load
    wrong = [row for row in section.find_elements("css selector", "tbody tr") if "incorrect" in row.text]
    assert section.find_element("css selector", ".page-label").text == "page 2 of 3"
    browser.find_element("css selector", 'input[value="bad"]').click()
    visible = [row for row in section.find_elements("css selector", "tbody tr") if row.is_displayed()]
    assert len(visible) == len(wrong) > 0  # the filter applies to a page loaded later too
