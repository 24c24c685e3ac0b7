"""The NEON kernels against the scalar oracle: cross-compiled for AArch64 and run under qemu-user,
with the stand-alone checker tests/native/isa_check.cpp (the Python tests cover x86 in-process)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CXX, QEMU = "aarch64-linux-gnu-g++", "qemu-aarch64"


@pytest.mark.skipif(shutil.which(CXX) is None or shutil.which(QEMU) is None,
                    reason="needs g++-aarch64-linux-gnu and qemu-user (apt-get install g++-aarch64-linux-gnu qemu-user)")
def test_neon_equals_scalar_under_qemu(tmp_path):
    csrc = ROOT / "csrc"
    sources = [csrc / "dispatch.cpp", csrc / "resample_coeffs.cpp", *sorted(csrc.glob("*_base.cpp")),
               *sorted(csrc.glob("*_neon.cpp")), ROOT / "tests" / "native" / "isa_check.cpp"]
    binary = tmp_path / "isa_check"
    build = subprocess.run([CXX, "-O2", "-std=c++17", "-static", "-ffp-contract=off", "-fno-tree-vectorize",
                            "-DCLEANCUT_NEON=1", f"-I{csrc}", *map(str, sources), "-o", str(binary)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-4000:]
    run = subprocess.run([QEMU, str(binary)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:]
    assert "on 2 table(s), 0 mismatches" in run.stdout
