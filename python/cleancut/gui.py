"""Desktop app (``cleancut gui``, PySide6): open or drop images or a folder, compare before/after
over a checkerboard, pick a background colour and edge options, save PNGs. Cuts run on a worker
thread, so the window never freezes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import (
    QApplication, QCheckBox, QColorDialog, QFileDialog, QHBoxLayout, QLabel, QMainWindow, QProgressBar,
    QPushButton, QSlider, QVBoxLayout, QWidget,
)

from .errors import CleancutError, InvalidInputError
from .files import cut_outputs, image_files, write_atomically

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff)"


def to_qimage(pixels: np.ndarray) -> QImage:
    """RGB or RGBA uint8 -> a QImage that owns a copy of the pixels."""
    pixels = np.ascontiguousarray(pixels)
    kind = QImage.Format.Format_RGBA8888 if pixels.shape[2] == 4 else QImage.Format.Format_RGB888
    return QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0], kind).copy()


class CompareView(QWidget):
    """The result over a checkerboard; the original shows left of the split."""

    def __init__(self) -> None:
        super().__init__()
        self.original: QImage | None = None
        self.result: QImage | None = None
        self.split = 0.5
        self.setMinimumSize(480, 360)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        size = 12
        for y in range(0, self.height(), size):
            for x in range(0, self.width(), size):
                painter.fillRect(x, y, size, size, QColor(204, 204, 204) if (x // size + y // size) % 2 else QColor(255, 255, 255))
        if self.original is None:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Open or drop an image or a folder")
            return
        scaled = self.original.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = self.rect().adjusted(0, 0, 0, 0)
        target.setSize(scaled)
        if self.result is not None:
            painter.drawImage(target, self.result)
        painter.setClipRect(target.x(), target.y(), int(target.width() * self.split), target.height())
        painter.drawImage(target, self.original)


class Signals(QObject):
    done = Signal(object, object)  # (path, result) or (path, exception)
    progress = Signal(int, int)


class CutJob(QRunnable):
    """Cuts one image, or every image under a folder into ``out_dir`` (same tree, .png), off the
    GUI thread; images that would share a file there are reported, not cut (files.cut_outputs)."""

    def __init__(self, paths: list[Path], options: dict, signals: Signals, root: Path | None = None, out_dir: Path | None = None) -> None:
        super().__init__()
        self.paths, self.options, self.signals = paths, options, signals
        self.outputs, self.refused = cut_outputs(paths, root, out_dir) if out_dir is not None and root is not None else (None, {})
        self.cancelled = False

    def run(self) -> None:
        from .api import remove
        from .decode import decode_image
        from .encode import to_png

        for index, path in enumerate(self.paths):
            if self.cancelled:
                return
            try:
                if path in self.refused:
                    raise InvalidInputError(self.refused[path])
                image = decode_image(path.read_bytes())
                result = remove(image.pixels, **self.options)
                if self.outputs is not None:
                    write_atomically(self.outputs[path], to_png(result, icc_profile=image.icc_profile))
                self.signals.done.emit(path, (image, result))
            except (CleancutError, OSError) as e:
                self.signals.done.emit(path, e)
            self.signals.progress.emit(index + 1, len(self.paths))


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("cleancut")
        self.setAcceptDrops(True)
        self.pool = QThreadPool.globalInstance()
        self.signals = Signals()
        self.signals.done.connect(self._finished)
        self.signals.progress.connect(self._progress)
        self.background: QColor | None = None
        self.result: np.ndarray | None = None
        self.profile: bytes | None = None  # the photo's colour profile, saved with the cut-out
        self.failures: list[str] = []
        self.batch_total = 0  # images in the folder being cut; 0 when cutting a single image
        self.jobs: list[CutJob] = []

        self.view = CompareView()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setValue(50)
        self.slider.valueChanged.connect(self._split)
        self.open_button, self.save_button, self.colour_button = QPushButton("Open…"), QPushButton("Save…"), QPushButton("Background…")
        self.hard_edges, self.soft_edges = QCheckBox("Hard edges (rembg post-processing)"), QCheckBox("Soften edges")
        self.clean_colours = QCheckBox("Clean edge colours")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.open_button.clicked.connect(self._choose_file)
        self.save_button.clicked.connect(self._choose_save)
        self.colour_button.clicked.connect(self._choose_colour)
        self.save_button.setEnabled(False)

        buttons = QHBoxLayout()
        for widget in (self.open_button, self.save_button, self.colour_button, self.hard_edges, self.soft_edges, self.clean_colours):
            buttons.addWidget(widget)
        layout = QVBoxLayout()
        layout.addLayout(buttons)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.slider)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)

    def options(self) -> dict:
        options: dict = {"post_process_mask": self.hard_edges.isChecked(), "edge_blur": 1.5 if self.soft_edges.isChecked() else 0.0,
                         "refine_foreground": self.clean_colours.isChecked()}
        if self.background is not None:
            options["bgcolor"] = self.background.getRgb()
        return options

    def open_path(self, path: Path) -> None:
        """An image is cut and shown; a folder is cut into '<folder>-cutout' beside it."""
        path = Path(path)
        if path.is_dir():
            paths = image_files(path)
            if not paths:
                self.status.setText(f"No images in {path}")
                return
            out_dir = path.with_name(path.name + "-cutout")
            job = CutJob(paths, self.options(), self.signals, root=path, out_dir=out_dir)
            self.progress.setRange(0, len(paths))
            self.progress.setValue(0)
            self.progress.setVisible(True)
            self.batch_total = len(paths)
            self.failures = []
            self.status.setText(f"Cutting {len(paths)} images into {out_dir}…")
        else:
            job = CutJob([path], self.options(), self.signals)
            self.status.setText(f"Working on {path.name}…")
        self.jobs.append(job)
        self.pool.start(job)

    def save_to(self, path: Path) -> None:
        """Save the cut-out in the format the file name's suffix names (PNG without one)."""
        from .encode import format_for, to_file_format

        if self.result is None:
            self.status.setText("Nothing to save yet")
            return
        try:
            write_atomically(Path(path), to_file_format(self.result, format_for(str(path)), self.profile))
        except (CleancutError, OSError) as e:
            self.status.setText(f"Could not save {path}: {getattr(e, 'strerror', None) or e}")
            return
        self.status.setText(f"Saved {path}")

    def _finished(self, path: Path, outcome) -> None:
        if isinstance(outcome, Exception):
            self.failures.append(f"{path.name}: {outcome}")
            self.status.setText(f"Could not cut {path.name}: {outcome}")
            return
        image, result = outcome
        self.result, self.profile = result, image.icc_profile
        self.view.original, self.view.result = to_qimage(image.pixels), to_qimage(result)
        self.view.update()
        self.save_button.setEnabled(True)
        if not self.batch_total:
            self.status.setText(f"Done: {path.name}")

    def _progress(self, done: int, total: int) -> None:
        if self.batch_total:
            self.progress.setValue(done)
            if done == total:
                failed = f", {len(self.failures)} failed" if self.failures else ""
                self.status.setText(f"Cut {total - len(self.failures)} of {total} images{failed}")
                self.batch_total = 0

    def _split(self, value: int) -> None:
        self.view.split = value / 100
        self.view.update()

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", "", IMAGE_FILTER)
        if path:
            self.open_path(Path(path))

    def _choose_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save", "cutout.png", "Images (*.png *.webp *.tif *.tiff *.jpg *.jpeg)")
        if path:
            self.save_to(Path(path))

    def _choose_colour(self) -> None:
        colour = QColorDialog.getColor(self.background or QColor("white"), self, "Background", QColorDialog.ColorDialogOption.ShowAlphaChannel)
        self.background = colour if colour.isValid() else None

    def closeEvent(self, event) -> None:  # noqa: N802
        for job in self.jobs:  # stop between images; the image in flight finishes
            job.cancelled = True
        self.pool.waitForDone()
        super().closeEvent(event)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            self.open_path(Path(url.toLocalFile()))


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow()
    window.resize(1000, 720)
    window.show()
    return app.exec()
