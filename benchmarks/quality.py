"""Edge quality harness: foreground colour and alpha matting against known truth, cleancut vs
pymatting vs doing nothing, with times, in one run.

Truth comes from real photos: the foreground F is a scikit-image photo and the soft alpha is the
one cleancut's U²-Net gives it; both are composited over strongly coloured and textured
backgrounds, I = aF + (1-a)B. Then
  (a) foreground colour error in the soft band (0 < a < 255) vs the known F, from I and the true a;
  (b) alpha error (SAD, MSE, gradient) vs the true a, starting from a degraded mask (the true alpha
      downsampled 8x, upsampled, blurred) through rembg's trimap (240 / 10, erode 10).
Writes benchmarks/QUALITY.md with the CPU model. Run: python benchmarks/quality.py
"""

from __future__ import annotations

import platform
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage import data

import cleancut
from cleancut import refine
from cleancut.backends import cpu_model

PHOTOS = ["astronaut", "chelsea", "coffee", "cat"]  # rocket: no sure foreground at 400 px; camera (grey): the CF solver stalls
ALPHA_SIZE = 400  # closed-form matting solves a sparse system per image: kept small so it finishes
SPEED_SIZE = 2048


def backgrounds(height: int, width: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:height, 0:width]
    stripes = np.stack([(np.sin(x / 3.0) > 0) * 255, (np.sin(y / 5.0) > 0) * 255, np.full_like(x, 40)], axis=-1)
    noise = ndimage.zoom(rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3)), (8, 8, 1), order=0)[:height, :width]
    texture = np.asarray(Image.fromarray(data.hubble_deep_field()[..., :3]).resize((width, height)))
    return {
        "green": np.broadcast_to(np.array([0, 255, 0]), (height, width, 3)),
        "magenta": np.broadcast_to(np.array([255, 0, 255]), (height, width, 3)),
        "stripes": stripes,
        "blocks": noise,
        "hubble": texture,
    }


def composite(foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    a = alpha[..., None] / 255.0
    return np.clip(a * foreground + (1 - a) * background + 0.5, 0, 255).astype(np.uint8)


def truth(name: str, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    photo = getattr(data, name)()
    if photo.ndim == 2:
        photo = np.stack([photo] * 3, axis=-1)
    photo = np.ascontiguousarray(photo[..., :3])
    if size:
        photo = np.asarray(Image.fromarray(photo).resize((size, size * photo.shape[0] // photo.shape[1]), Image.LANCZOS))
    return photo, cleancut.remove(photo, only_mask=True)


def timed(function, *args, repeat: int = 3) -> tuple[float, object]:
    function(*args)  # warm: pymatting compiles with numba on its first call
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def foreground_errors(estimate: np.ndarray, truth_rgb: np.ndarray, alpha: np.ndarray) -> tuple[float, float]:
    """Mean |F - F_true| over the soft band, plain and alpha-weighted (in 0..255 levels)."""
    band = (alpha > 0) & (alpha < 255)
    error = np.abs(estimate[..., :3].astype(np.float64) - truth_rgb)[band].mean(axis=-1)
    weights = alpha[band] / 255.0
    return float(error.mean()), float((error * weights).sum() / weights.sum())


def alpha_errors(estimate: np.ndarray, true_alpha: np.ndarray) -> tuple[float, float, float]:
    """SAD (/1000), MSE (x1000) and gradient error (/1000) in 0..1 alpha units, as in matting papers."""
    e, t = estimate.astype(np.float64) / 255, true_alpha.astype(np.float64) / 255
    gradient = (ndimage.gaussian_gradient_magnitude(e, 1.4) - ndimage.gaussian_gradient_magnitude(t, 1.4)) ** 2
    return float(np.abs(e - t).sum() / 1000), float(((e - t) ** 2).mean() * 1000), float(gradient.sum() / 1000)


def degrade(alpha: np.ndarray) -> np.ndarray:
    height, width = alpha.shape
    small = Image.fromarray(alpha).resize((max(1, width // 8), max(1, height // 8)), Image.BOX)
    return refine.gaussian_blur(np.asarray(small.resize((width, height), Image.BILINEAR)), 2.0)


def pymatting_foreground(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    from pymatting import estimate_foreground_ml

    return np.clip(estimate_foreground_ml(image / 255.0, alpha / 255.0) * 255 + 0.5, 0, 255)


def pymatting_alpha(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from pymatting import estimate_alpha_cf

    sure_foreground, sure_background = refine.trimap(mask)
    trimap = np.where(sure_foreground, 1.0, np.where(sure_background, 0.0, 0.5))
    return np.clip(estimate_alpha_cf(image / 255.0, trimap) * 255 + 0.5, 0, 255).astype(np.uint8)


def main() -> None:
    rows_fg, rows_alpha, failures = [], [], []
    totals: dict[str, list[float]] = {}
    for name in PHOTOS:
        photo, alpha = truth(name)
        small_photo, small_alpha = truth(name, ALPHA_SIZE)
        for bg_name, background in backgrounds(*photo.shape[:2]).items():
            image = composite(photo, alpha, background)
            results = {
                "none": foreground_errors(image, photo, alpha),
                "pymatting ML": foreground_errors(pymatting_foreground(image, alpha), photo, alpha),
                "cleancut blur_fusion": foreground_errors(refine.estimate_foreground(image, alpha, "blur_fusion"), photo, alpha),
                "cleancut multilevel": foreground_errors(refine.estimate_foreground(image, alpha, "multilevel"), photo, alpha),
            }
            rows_fg.append((name, bg_name, results))
            for method, (plain, weighted) in results.items():
                totals.setdefault(f"fg {method}", []).append(plain)
                totals.setdefault(f"fg-weighted {method}", []).append(weighted)
            small_image = composite(small_photo, small_alpha, backgrounds(*small_photo.shape[:2])[bg_name])
            mask = degrade(small_alpha)
            try:
                closed_form = pymatting_alpha(small_image, mask)
            except ValueError as e:  # no sure foreground left, or its solver did not converge
                failures.append(f"{name} on {bg_name}: {e}")
                continue
            alphas = {"degraded mask": mask, "pymatting CF": closed_form, "cleancut": refine.alpha_matting(small_image, mask).alpha}
            errors = {method: alpha_errors(estimate, small_alpha) for method, estimate in alphas.items()}
            rows_alpha.append((name, bg_name, errors))
            for method, (sad, mse, gradient) in errors.items():
                totals.setdefault(f"SAD {method}", []).append(sad)
                totals.setdefault(f"MSE {method}", []).append(mse)
                totals.setdefault(f"grad {method}", []).append(gradient)
        print(name, "done", flush=True)

    # Speed at 2048² (foreground) and at the alpha size (matting), same inputs for both sides.
    photo, alpha = truth("astronaut", SPEED_SIZE)
    image = composite(photo, alpha, backgrounds(*photo.shape[:2])["stripes"])
    t_ml, _ = timed(pymatting_foreground, image, alpha)
    t_bf, _ = timed(refine.estimate_foreground, image, alpha, "blur_fusion", repeat=10)
    t_multilevel, _ = timed(refine.estimate_foreground, image, alpha, "multilevel", repeat=10)
    small_photo, small_alpha = truth("astronaut", ALPHA_SIZE)
    small_image = composite(small_photo, small_alpha, backgrounds(*small_photo.shape[:2])["stripes"])
    mask = degrade(small_alpha)
    t_cf, _ = timed(pymatting_alpha, small_image, mask, repeat=1)
    t_gf, _ = timed(refine.alpha_matting, small_image, mask, repeat=10)

    mean = {key: statistics.mean(values) for key, values in totals.items()}
    lines = [
        "# Edge quality: cleancut vs pymatting vs nothing",
        "",
        f"CPU: {cpu_model()} · Python {platform.python_version()} · cleancut kernels: {cleancut.capabilities()['isa']} · "
        f"{len(PHOTOS)} photos x {len(backgrounds(8, 8))} backgrounds (`python benchmarks/quality.py`)",
        "",
        "## Foreground colour in the soft band (mean |F - F_true|, 0..255 levels; lower is better)",
        "",
        "| method | band MAE | alpha-weighted MAE | time at 2048² |",
        "|---|---|---|---|",
        f"| none (the composite's own colours) | {mean['fg none']:.2f} | {mean['fg-weighted none']:.2f} | — |",
        f"| pymatting estimate_foreground_ml | {mean['fg pymatting ML']:.2f} | {mean['fg-weighted pymatting ML']:.2f} | {t_ml * 1e3:.0f} ms |",
        f"| cleancut estimate_foreground, multilevel (default) | {mean['fg cleancut multilevel']:.2f} | {mean['fg-weighted cleancut multilevel']:.2f} | {t_multilevel * 1e3:.1f} ms |",
        f"| cleancut estimate_foreground, blur_fusion | {mean['fg cleancut blur_fusion']:.2f} | {mean['fg-weighted cleancut blur_fusion']:.2f} | {t_bf * 1e3:.1f} ms |",
        "",
        f"multilevel / pymatting: error {mean['fg cleancut multilevel'] / mean['fg pymatting ML']:.2f}x "
        f"(alpha-weighted {mean['fg-weighted cleancut multilevel'] / mean['fg-weighted pymatting ML']:.2f}x; target <= 1), "
        f"speed-up {t_ml / t_multilevel:.1f}x (target >= 10x); blur_fusion / pymatting: error "
        f"{mean['fg cleancut blur_fusion'] / mean['fg pymatting ML']:.2f}x, speed-up {t_ml / t_bf:.1f}x. "
        f"Error x time, multilevel : blur_fusion = "
        f"{mean['fg cleancut multilevel'] * t_multilevel / (mean['fg cleancut blur_fusion'] * t_bf):.2f} (band MAE), "
        f"{mean['fg-weighted cleancut multilevel'] * t_multilevel / (mean['fg-weighted cleancut blur_fusion'] * t_bf):.2f} (alpha-weighted). "
        f"Error drop vs none (multilevel): {mean['fg none'] / mean['fg cleancut multilevel']:.2f}x.",
        "",
        f"## Alpha from a degraded mask ({ALPHA_SIZE} px wide; SAD/1000, MSE x1000, gradient/1000; lower is better)",
        "",
        "| method | SAD | MSE | gradient | time |",
        "|---|---|---|---|---|",
        f"| degraded mask | {mean['SAD degraded mask']:.2f} | {mean['MSE degraded mask']:.2f} | {mean['grad degraded mask']:.2f} | — |",
        f"| pymatting estimate_alpha_cf (same trimap) | {mean['SAD pymatting CF']:.2f} | {mean['MSE pymatting CF']:.2f} | {mean['grad pymatting CF']:.2f} | {t_cf * 1e3:.0f} ms |",
        f"| cleancut alpha_matting (colour projection + guided filter) | {mean['SAD cleancut']:.2f} | {mean['MSE cleancut']:.2f} | {mean['grad cleancut']:.2f} | {t_gf * 1e3:.1f} ms |",
        "",
        f"cleancut / closed-form SAD: {mean['SAD cleancut'] / mean['SAD pymatting CF']:.2f}x, MSE: "
        f"{mean['MSE cleancut'] / mean['MSE pymatting CF']:.2f}x (target <= 1.2x).",
        "",
        "## Per photo and background (foreground band MAE: none / pymatting / cleancut; alpha SAD: degraded / CF / cleancut)",
        "",
        "| photo | background | fg none | fg pymatting | fg cleancut (multilevel) | SAD degraded | SAD CF | SAD cleancut |",
        "|---|---|---|---|---|---|---|---|",
    ]
    alpha_rows = {(name, bg_name): errors for name, bg_name, errors in rows_alpha}
    for name, bg_name, fg in rows_fg:
        al = alpha_rows.get((name, bg_name))
        sad = " | ".join(f"{al[m][0]:.2f}" for m in ("degraded mask", "pymatting CF", "cleancut")) if al else "CF failed | — | —"
        lines.append(f"| {name} | {bg_name} | {fg['none'][0]:.2f} | {fg['pymatting ML'][0]:.2f} | {fg['cleancut multilevel'][0]:.2f} | {sad} |")
    lines += ["", f"Alpha means cover the {len(rows_alpha)} cases where pymatting's closed form ran; it failed on:"]
    lines += [f"- {failure}" for failure in failures] or ["- none"]
    text = "\n".join(lines) + "\n"
    (Path(__file__).parent / "QUALITY.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
