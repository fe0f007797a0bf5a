"""The lab in Debian's Chromium: each panel used as a person would, on a laptop and a phone.

The server runs in this process on a free loopback port over tiny runs and a tiny classifier
with the ImageNet class names; screenshots go to test-artifacts/.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import uvicorn
from PIL import Image

from vislab.serve import Lab, create_app, explain_routes
from vislab.serve.server import listening_socket

from .conftest import TINY_BACKBONES

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT = 30.0


@pytest.fixture(scope="module")
def lab_url(tiny_runs, tmp_path_factory):
    lab = Lab(tiny_runs, tmp_path_factory.mktemp("lab-temp"), backbones=TINY_BACKBONES)
    sock = listening_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(lab), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the lab did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    server.should_exit = True
    thread.join(10)
    lab.close()
    sock.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromedriver = shutil.which("chromedriver")
    if chromedriver is None or shutil.which("chromium") is None:
        pytest.fail("Debian's chromium and chromium-driver are missing: run `make setup` as root")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


def until(driver, script: str, *args, timeout: float = TIMEOUT):
    """Poll a JavaScript expression (`return ...`) until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.1)
    status = driver.execute_script(
        "return Array.from(document.querySelectorAll('.status'), s => s.textContent)"
    )
    raise AssertionError(f"timed out waiting for: {script} (status lines: {status})")


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def open_lab(driver, url: str, tab: str) -> None:
    driver.get(url)
    until(driver, "return document.body.dataset.ready === 'true'")
    driver.find_element("css selector", f"#tabs button[data-tab='{tab}']").click()


LOADED = "return Array.from(document.querySelectorAll(arguments[0])).filter(i => i.complete && i.naturalWidth > 0).length"  # noqa: E501


def test_upload_a_photo_and_see_every_saliency_map(browser, lab_url, tmp_path):
    photo = tmp_path / "my photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)).save(photo)
    open_lab(browser, lab_url, "explain")
    browser.find_element("css selector", "#explain-form input[type=file]").send_keys(str(photo))
    browser.find_element("css selector", "#explain-form button[type=submit]").click()
    until(
        browser,
        "return document.querySelector('#explain .status').textContent.startsWith('Every method')",
    )
    assert until(browser, LOADED, "#explain-maps img") == len(explain_routes.SLOW_METHODS) + 1
    assert until(browser, LOADED, "#explain-input") == 1
    assert len(browser.find_elements("css selector", "#explain-top5 li")) == 5
    browser.save_screenshot(str(ARTIFACTS / "serve-explain.png"))
    assert console_errors(browser) == []


def test_fool_the_model_into_a_class_named_with_autocomplete(browser, lab_url):
    open_lab(browser, lab_url, "fool")
    names = browser.execute_script("return document.querySelectorAll('#class-names option').length")
    assert names == 1000
    target = browser.find_element("css selector", "#fool-form input[name=target]")
    target.clear()
    target.send_keys("stingray")
    browser.find_element("css selector", "#fool-form button[type=submit]").click()
    until(
        browser, "return document.querySelector('#fool .status').textContent.startsWith('Fooled')"
    )
    assert until(browser, LOADED, "#fool-images img") == 3
    after = browser.find_element("css selector", "#fool-after li").text
    assert after.startswith("stingray")
    browser.save_screenshot(str(ARTIFACTS / "serve-fool.png"))
    assert console_errors(browser) == []


def test_compose_a_scene_and_get_a_caption(browser, lab_url):
    open_lab(browser, lab_url, "scene")
    browser.find_element("css selector", "#scene-form button[type=submit]").click()
    captions = until(
        browser,
        "const items = Array.from(document.querySelectorAll('#scene-captions li'),"
        " li => li.textContent); return items.length === 2 && items",
    )
    names = [c.split(": ", 1)[0] for c in captions]
    assert names == ["attention-lstm (attention-lstm)", "rnn (rnn)"]
    assert all(c.split(": ", 1)[1] and "no caption" not in c for c in captions)
    assert until(browser, LOADED, "#scene-image") == 1
    browser.find_element("css selector", "#scene-random").click()
    until(
        browser, "return document.querySelector('#scene .status').textContent.includes('answered')"
    )
    browser.save_screenshot(str(ARTIFACTS / "serve-scene.png"))
    assert console_errors(browser) == []


def test_move_the_gan_slider(browser, lab_url):
    from selenium.webdriver.common.keys import Keys

    open_lab(browser, lab_url, "generate")
    browser.find_element("css selector", "#generate-form button[type=submit]").click()
    until(browser, "return !document.querySelector('#gan-slider').disabled")
    assert until(browser, LOADED, "#gan-samples, #gan-frame") == 2
    first = browser.find_element("css selector", "#gan-frame").get_attribute("src")
    slider = browser.find_element("css selector", "#gan-slider")
    for _ in range(5):
        slider.send_keys(Keys.ARROW_RIGHT)
    assert slider.get_attribute("value") == "5"
    assert browser.find_element("css selector", "#gan-frame").get_attribute("src") != first
    assert until(browser, LOADED, "#gan-frame") == 1
    browser.save_screenshot(str(ARTIFACTS / "serve-generate.png"))
    assert console_errors(browser) == []


def test_class_visualization_streams_to_the_page(browser, lab_url):
    open_lab(browser, lab_url, "class")
    steps = browser.find_element("css selector", "#class-form input[name=iterations]")
    steps.clear()
    steps.send_keys("60")
    browser.find_element("css selector", "#class-form button[type=submit]").click()
    until(
        browser,
        "return document.querySelector('#class .status').textContent.startsWith('An image')",
    )
    assert until(browser, LOADED, "#class-image") == 1
    assert len(browser.find_elements("css selector", "#class-top5 li")) == 5
    assert console_errors(browser) == []


# Each tab filled with its answer (the status line that says it is there).
FILLED = {
    "explain": ".startsWith('Every method')",
    "scene": ".includes('answered')",
    "generate": ".includes('slide between')",
}


@pytest.mark.parametrize("width", [390, 1280])
def test_pages_fit_a_phone_and_a_laptop(browser, lab_url, width):
    # Headless Chromium's windows are at least 500 px wide: a phone is an emulated screen.
    metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        for tab, done in FILLED.items():
            open_lab(browser, lab_url, tab)
            assert browser.execute_script("return window.innerWidth") == width
            browser.find_element("css selector", f"#{tab}-form button[type=submit]").click()
            until(browser, f"return document.querySelector('#{tab} .status').textContent{done}")
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{tab} is {overflow} px wider than a {width} px window"
            browser.save_screenshot(str(ARTIFACTS / f"serve-{tab}-{width}px.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert console_errors(browser) == []
