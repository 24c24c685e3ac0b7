"""Ray Data: cut a folder of images on a Ray cluster (or a local Ray), one model session per actor.

    import ray, cleancut.ray
    ray.init()                                   # or ray.init(address="ray://head:10001")
    paths = sorted(Path("photos").rglob("*.jpg"))
    failed = cleancut.ray.cut_files(paths, Path("photos"), Path("cutouts"), batch_size=8, concurrency=4)

Each actor writes its PNGs itself, so on a cluster ``out_dir`` must be storage every node sees
(NFS, a mounted bucket); only paths and error messages travel back to the driver.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CleancutError, checked_number
from .files import cut_outputs, write_atomically


class Cutter:
    """The callable class for ``Dataset.map_batches``: loads the model once per actor."""

    def __init__(self, root: str, out_dir: str, model: str = "u2netp", options: dict | None = None, precision: str = "fp32",
                 model_path: str | None = None) -> None:
        import ray

        from .session import new_session

        # The CPUs Ray gave this actor, not every core of the node: the node's other actors have
        # theirs (inside an actor the process may still run on all of them).
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
        self.session = new_session(model, model_path=model_path, precision=precision, threads=max(1, int(cpus)))
        self.root, self.out_dir, self.options = Path(root), Path(out_dir), options or {}

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from .api import remove

        errors = []
        for data, path in zip(batch["bytes"], batch["path"]):
            try:
                png = remove(bytes(data), session=self.session, force_return_bytes=True, **self.options)
                write_atomically(self.out_dir / Path(path).relative_to(self.root).with_suffix(".png"), png)
                errors.append("")
            except (CleancutError, OSError) as e:  # reported, never fatal to the run
                errors.append(str(e))
        return {"path": batch["path"], "error": np.array(errors, dtype=object)}


def cut_files(
    paths: list[Path],
    root: Path,
    out_dir: Path,
    *,
    model: str = "u2netp",
    model_path: str | None = None,
    precision: str = "fp32",
    batch_size: int = 8,
    concurrency: int | None = None,
    cpus_per_actor: int = 1,
    **options: Any,
) -> dict[str, str]:
    """Cut ``paths`` (all under ``root``) into ``out_dir`` (same tree, .png) with Ray Data.
    Returns {path: error message} for the files that failed, and for those that would share an
    output file (not cut). ``model_path``: a file run as ``model`` (new_session). Starts a local Ray if none is up. Each actor runs its network on its
    ``cpus_per_actor`` CPUs; ``concurrency`` actors (default: as many as the free CPUs allow,
    one CPU left for reading the files)."""
    import ray

    checked_number("cpus_per_actor", cpus_per_actor, 1)
    outputs, refused = cut_outputs([Path(p) for p in paths], Path(root), Path(out_dir))
    failures = {str(path): message for path, message in refused.items()}
    if not outputs:
        return failures
    if not ray.is_initialized():
        ray.init(runtime_env={"env_vars": {k: v for k, v in os.environ.items() if k.startswith("CLEANCUT_")}})
    dataset = ray.data.read_binary_files([str(p) for p in outputs], include_paths=True)
    # Reading the files needs a CPU too, or the pipeline stalls.
    actors = concurrency or max(1, (int(ray.available_resources().get("CPU", 2)) - 1) // cpus_per_actor)
    results = dataset.map_batches(
        Cutter,
        fn_constructor_kwargs={"root": str(root), "out_dir": str(out_dir), "model": model, "options": options, "precision": precision,
                               "model_path": model_path},
        batch_size=batch_size,
        concurrency=actors,
        num_cpus=cpus_per_actor,
        batch_format="numpy",
    )
    return failures | {row["path"]: row["error"] for row in results.iter_rows() if row["error"]}
