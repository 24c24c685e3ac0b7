"""The desktop app, offscreen: open an image, cut it on the worker thread, save it, batch a folder."""

import os

import numpy as np
import pytest
from PIL import Image, ImageCms

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
QtWidgets = pytest.importorskip("PySide6.QtWidgets")
PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()  # an RGB colour profile


@pytest.fixture(scope="module")
def app():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


def wait_until(app, condition, timeout=120):
    import time

    from PySide6.QtCore import QThreadPool

    deadline = time.monotonic() + timeout
    while not condition():
        app.processEvents()
        QThreadPool.globalInstance().waitForDone(20)
        assert time.monotonic() < deadline, "timed out"


def test_drop_cut_compare_and_save(app, session, tmp_path):
    from skimage import data

    from cleancut.gui import MainWindow

    photo = tmp_path / "coffee.jpg"
    Image.fromarray(data.coffee()).save(photo, icc_profile=PROFILE)  # the saved cut-out keeps it
    window = MainWindow()
    window.resize(900, 700)
    window.show()
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    window.dropEvent(QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    assert window.status.text().startswith("Working on")
    wait_until(app, lambda: window.result is not None)
    assert window.status.text() == "Done: coffee.jpg" and window.save_button.isEnabled()
    window.slider.setValue(30)
    assert window.view.split == pytest.approx(0.3)
    window.grab().save(str(tmp_path / "gui.png"))
    with Image.open(tmp_path / "gui.png") as shot:
        assert shot.size[0] > 400

    out = tmp_path / "cut.png"
    window.save_to(out)
    with Image.open(out) as saved:
        alpha = np.asarray(saved)[..., 3]
        assert saved.mode == "RGBA" and saved.size == (600, 400) and saved.info.get("icc_profile") == PROFILE
        assert alpha.min() == 0 and alpha.max() == 255
    window.save_to(tmp_path / "cut.webp")  # the format the name says, losslessly
    with Image.open(tmp_path / "cut.webp") as saved, Image.open(out) as png:
        assert saved.format == "WEBP" and np.array_equal(np.asarray(saved), np.asarray(png))
        assert saved.info.get("icc_profile") == PROFILE
    window.save_to(tmp_path / "cut.jpg")  # a cut-out has transparency, which JPEG cannot hold
    assert "JPEG has no transparency" in window.status.text() and not (tmp_path / "cut.jpg").exists()
    window.close()


def test_folder_batch_with_progress_and_a_bad_file(app, session, tmp_path):
    from skimage import data

    from cleancut.gui import MainWindow

    folder = tmp_path / "shots"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(data.coffee()[::4, ::4]).save(folder / "a.png", icc_profile=PROFILE)
    Image.fromarray(data.rocket()[::4, ::4]).save(folder / "sub" / "b.jpg")
    (folder / "broken.png").write_bytes(b"\x89PNG nope")
    for suffix in ("jpg", "webp"):  # both would be cut to c.png
        Image.fromarray(data.chelsea()[::4, ::4]).save(folder / f"c.{suffix}")
    window = MainWindow()
    window.hard_edges.setChecked(True)
    window.open_path(folder)
    assert window.batch_total == 5 and window.progress.maximum() == 5
    wait_until(app, lambda: window.progress.value() == 5)
    assert window.status.text() == "Cut 2 of 5 images, 3 failed"
    assert sum("c.jpg and c.webp would both be cut to c.png" in failure for failure in window.failures) == 2
    out = tmp_path / "shots-cutout"
    for name, profile in (("a.png", PROFILE), ("sub/b.png", None)):
        with Image.open(out / name) as image:
            assert image.mode == "RGBA" and set(np.unique(np.asarray(image)[..., 3])) <= {0, 255}
            assert image.info.get("icc_profile") == profile
    assert not (out / "broken.png").exists() and not (out / "c.png").exists()
    window.save_to(tmp_path / "shots" / "a.png" / "inside-a-file.png")
    assert window.status.text().startswith("Could not save")
    window.close()
