"""Make what `benchmarks/gpu.sh` needs on a GPU machine with no network, in at most 64 MiB (the
workplace's device tool carries no more): `.gpu1/ort.tar.xz` (onnxruntime-gpu unpacked, with only
one GPU architecture's cubins left in its CUDA provider), `.whl/` (the other wheels cleancut needs
there) and `.model/` (u2netp). Run here, where pip reaches PyPI; then on the device:
`ORT_TARBALL=.gpu1/ort.tar.xz WHEELS=.whl CLEANCUT_HOME=.model benchmarks/gpu.sh`.

The onnxruntime-gpu 1.31.1 wheel is 255 MB, 231 MB of it cubins for sm_75..sm_120; zeroing all but
sm_90 (H100/H200) and packing with xz -9e gives 61 MB (2026-11-27)."""

import argparse
import lzma
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]
FATBIN_MAGIC, CUBIN = 0xBA55ED50, 2


def download(names: list[str], into: Path, python: str) -> None:
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version",
                    python, "--implementation", "cp", *platforms, "-d", str(into), *names], check=True)


def keep_one_architecture(library: Path, arch: int) -> tuple[int, int]:
    """Zero every entry of the ELF's .nv_fatbin section but `arch`'s cubins (offsets stay, so the
    library still loads; the zeros pack to nothing). Returns (bytes kept, bytes zeroed)."""
    data = bytearray(library.read_bytes())
    section_headers, = struct.unpack_from("<Q", data, 0x28)
    entry_size, count, names_index = struct.unpack_from("<HHH", data, 0x3A)

    def section(i: int) -> tuple[int, int, int]:
        name, _, _, _, offset, size = struct.unpack_from("<IIQQQQ", data, section_headers + i * entry_size)
        return name, offset, size

    names = section(names_index)[1]
    kept = zeroed = 0
    for i in range(count):
        name, offset, size = section(i)
        if data[names + name : data.index(b"\0", names + name)] != b".nv_fatbin":
            continue
        position, end = offset, offset + size
        while position + 16 <= end:
            magic, _, header, body = struct.unpack_from("<IHHQ", data, position)
            if magic != FATBIN_MAGIC:  # containers are 8-byte aligned
                position += 8
                continue
            entry, last = position + header, position + header + body
            while entry < last:
                kind, _, entry_header, entry_body = struct.unpack_from("<HHIQ", data, entry)
                entry_arch, = struct.unpack_from("<I", data, entry + 28)
                if entry_header == 0:
                    break
                if kind == CUBIN and entry_arch == arch:
                    kept += entry_body
                else:
                    data[entry + entry_header : entry + entry_header + entry_body] = bytes(entry_body)
                    zeroed += entry_body
                entry += entry_header + entry_body
            position = last
    library.write_bytes(data)
    return kept, zeroed


def pack_onnxruntime(version: str, arch: int, python: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as temp:
        download([f"onnxruntime-gpu=={version}"], Path(temp), python)
        site = Path(temp) / "site"
        zipfile.ZipFile(next(Path(temp).glob("onnxruntime_gpu-*.whl"))).extractall(site)
        capi = site / "onnxruntime" / "capi"
        kept, zeroed = keep_one_architecture(capi / "libonnxruntime_providers_cuda.so", arch)
        print(f"CUDA provider: kept {kept / 1e6:.1f} MB of sm_{arch} cubins, zeroed {zeroed / 1e6:.1f} MB")
        for unused in [*capi.glob("libonnxruntime.so*"), site / "onnxruntime" / "tools", site / "onnxruntime" / "quantization"]:
            shutil.rmtree(unused) if unused.is_dir() else unused.unlink()  # the Python module loads neither
        out.parent.mkdir(exist_ok=True)
        with tarfile.open(out, "w:xz", preset=9 | lzma.PRESET_EXTREME) as tar:
            for path in sorted(site.iterdir()):
                tar.add(path, arcname=path.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onnxruntime-gpu", default="1.31.1", help="the version to pack")
    parser.add_argument("--arch", type=int, default=90, help="the GPU architecture whose cubins stay (90: H100/H200)")
    parser.add_argument("--python", default="3.12", help="the device's Python")
    args = parser.parse_args()

    pack_onnxruntime(args.onnxruntime_gpu, args.arch, args.python, ROOT / ".gpu1" / "ort.tar.xz")
    wheels = ROOT / ".whl"
    wheels.mkdir(exist_ok=True)
    download(["isal", "platformdirs", "simplejpeg"], wheels, args.python)
    from cleancut import models

    (ROOT / ".model").mkdir(exist_ok=True)
    shutil.copy(models.default_model_path(), ROOT / ".model")
    total = sum(f.stat().st_size for folder in (".gpu1", ".whl", ".model") for f in (ROOT / folder).rglob("*") if f.is_file())
    print(f".gpu1, .whl, .model: {total / 2**20:.1f} MiB (the device tool carries 64 MiB with the working tree)")
    return 0 if total < 63 * 2**20 else 1


if __name__ == "__main__":
    sys.exit(main())
