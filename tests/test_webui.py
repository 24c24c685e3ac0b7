"""The WebUI in a real browser: Debian's chromium + chromium-driver driven by selenium."""

import base64
import io
import shutil

import numpy as np
import pytest
from PIL import Image

from cleancut.server import ServerConfig, create_app
from serving import running

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver")


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def wait_for(driver, condition, timeout=90):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(condition))


def test_upload_cut_compare_and_download(browser, session, tmp_path):
    from skimage import data

    photo = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(photo)
    with running(create_app(ServerConfig(), session)) as url:
        browser.get(url)
        browser.find_element("id", "file").send_keys(str(photo))
        wait_for(browser, "return document.getElementById('download').href.startsWith('blob:')")
        wait_for(browser, "const i = document.getElementById('result'); return i.complete && i.naturalWidth > 0")
        browser.save_screenshot(str(tmp_path / "webui.png"))

        transparent = browser.execute_script("""
            const img = document.getElementById('result');
            const canvas = document.createElement('canvas');
            canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
            const ctx = canvas.getContext('2d'); ctx.drawImage(img, 0, 0);
            const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            let count = 0; for (let i = 3; i < pixels.length; i += 4) if (pixels[i] < 255) count++;
            return count;""")
        assert transparent > 1000
        background = browser.execute_script("return getComputedStyle(document.querySelector('#result').parentElement).backgroundImage")
        assert "linear-gradient" in background, "checkerboard behind the transparent result"
        assert browser.find_element("id", "compare").is_displayed() and browser.find_element("id", "slider").is_displayed()
        assert "Done" in browser.find_element("id", "status").text

        encoded = browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(document.getElementById('download').href).then(r => r.arrayBuffer()).then(buffer => {
              let text = ''; new Uint8Array(buffer).forEach(b => text += String.fromCharCode(b)); done(btoa(text));
            });""")
        with Image.open(io.BytesIO(base64.b64decode(encoded))) as downloaded:
            assert downloaded.format == "PNG" and downloaded.mode == "RGBA" and downloaded.size == (512, 512)
            assert (np.asarray(downloaded)[..., 3] < 255).any()
        assert browser.find_element("id", "download").get_attribute("download") == "cutout.png"

        # The edge toggles re-cut the image with their options.
        browser.execute_script("document.getElementById('download').removeAttribute('href')")
        browser.find_element("id", "rf").click()
        browser.find_element("id", "matting").click()
        wait_for(browser, "const a = document.getElementById('download'); return a.href && a.href.startsWith('blob:')")
        assert "refine_foreground=true" in browser.execute_script("return query()")
        assert "alpha_matting=true" in browser.execute_script("return query()")

        broken = tmp_path / "broken.png"
        broken.write_bytes(b"\x89PNG\r\n\x1a\n not a real png")
        browser.find_element("id", "file").send_keys(str(broken))
        wait_for(browser, "return document.getElementById('status').classList.contains('error')")
        assert 'Could not cut "broken.png"' in browser.find_element("id", "status").text
        browser.save_screenshot(str(tmp_path / "webui-error.png"))
