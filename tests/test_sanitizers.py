"""The kernel tests again, against a build with AddressSanitizer + UBSan (CMake CLEANCUT_SANITIZE=ON)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def runtime(name: str) -> str:
    return subprocess.run(["g++", f"-print-file-name={name}"], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(shutil.which("g++") is None or not (ROOT / "CMakeLists.txt").exists(), reason="needs g++ and the source tree")
def test_kernel_tests_pass_under_asan_and_ubsan(tmp_path):
    site = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--quiet", "--target", str(site),
         f"-Cbuild-dir={tmp_path / 'build'}", "-Ccmake.define.CLEANCUT_SANITIZE=ON", str(ROOT)],
        capture_output=True, text=True, timeout=900,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    native = next((site / "cleancut").glob("_native*.so"))
    linked = subprocess.run(["ldd", str(native)], capture_output=True, text=True).stdout
    assert "libasan" in linked and "libubsan" in linked

    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "LD_PRELOAD": f"{runtime('libasan.so')}:{runtime('libubsan.so')}",
        # CPython's own allocations are not ours to judge; memory errors and UB still abort.
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
    }
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "not remove",  # kernels only, no model
         str(ROOT / "tests" / "test_kernels.py"), str(ROOT / "tests" / "test_matting.py")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900,
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-4000:]
    assert " passed" in tests.stdout
