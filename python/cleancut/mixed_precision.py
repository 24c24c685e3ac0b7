"""Mixed precision: the networks `openvino-cpu-bf16` and `openvino-cpu-int8` run.

bf16 with fp32 islands: bf16 arithmetic runs u2netp about 1.7x faster than fp32 on CPUs that have
it, but moves its mask by up to 9.5/255. Nearly all of that comes from a few convolutions (in
u2netp 4 of 119, each merging an upsampled map with its skip connection late in the decoder). Each
convolution is measured alone in bf16 on the calibration photos; those that move the network's map
keep fp32, with the concat and resize that feed them, and everything else runs in bf16.

INT8 where it is cheap in error: quantising the whole network ruins u2netp's masks (up to 81/255),
but a few convolutions carry most of the work (in u2netp one 128->64 convolution at 320x320 is a
quarter of the time). Taking the heaviest convolutions first, each is quantised (per-channel
weights, activations over their calibration range) and kept INT8 if the map stays within
INT8_BOUND on calibration photos whose ranges it was not given; the rest keeps the bf16 network's
precisions. The chosen ones then get their biases corrected for the mean shift rounding causes.

OpenVINO keeps a layer at its own precision where the IR marks it (the DisablePrecisionConversion
runtime attribute, which only the IR reader creates). Its CPU plugin loses the mark on MaxPool-8
and Interpolate-11 when it converts them to the versions it runs, so the graph is first rebuilt
with MaxPool-1 and Interpolate-4, which compute the same.
"""

from __future__ import annotations

import logging
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .backends import SaliencyMaps
from .files import install_ir

log = logging.getLogger(__name__)

SENSITIVE = 0.1  # a convolution alone in bf16 moving the 320² map by more (mean, 0..255 levels) keeps fp32
CHUNK = 8  # convolutions tried in bf16 together before one at a time
# The INT8 convolutions together may move the map by this much (mean, 0..255 levels, worst photo)
# on calibration photos whose activation ranges were not used (see build). Picked by measurement on
# u2netp, held-out photos included, so those no longer test it independently: 0.25 let 8
# convolutions in with a held-out worst full-size mask error of 2.99/255; 0.18 took 8 others with a
# held-out worst of 1.61 (auto-selection allows 2), and on 11 further images (skimage textures,
# crops, a flip) a worst of 1.58 against 1.86 for the earlier 6-convolution network. With the bias
# correction added after the choice (build): held-out worst 0.97, the 11 further images 0.97.
INT8_BOUND = 0.18
INT8_CANDIDATES = 20  # the heaviest convolutions tried in INT8, one after another
_KEEP = "DisablePrecisionConversion"


def _rebuilt(graph: Path):
    """The graph with its max-pools and resizes in the op versions the CPU plugin runs unconverted."""
    import openvino as ov
    import openvino.opset1 as opset1
    import openvino.opset10 as opset10

    model = ov.Core().read_model(str(graph))
    for node in model.get_ordered_ops():
        kind, attrs = node.get_type_name(), node.get_attributes()
        if kind == "MaxPool":
            if len(node.outputs()) > 1 and node.output(1).get_target_inputs():
                continue  # its indices are used: MaxPool-1 has none
            new = opset1.max_pool(node.input_value(0), attrs["strides"], attrs["pads_begin"], attrs["pads_end"], attrs["kernel"],
                                  attrs["rounding_type"], attrs["auto_pad"])
        elif kind == "Interpolate" and attrs.get("shape_calculation_mode") == "scales" and len(node.inputs()) == 2:
            scales_node = node.input_value(1).get_node()
            shape = node.input_value(0).get_partial_shape()
            if scales_node.get_type_name() != "Constant" or any(shape[axis].is_dynamic for axis in (2, 3)):
                continue
            scales = scales_node.get_data().astype(np.float32)[2:]
            sizes = np.array([int(shape[2].get_length() * scales[0]), int(shape[3].get_length() * scales[1])], np.int32)
            new = opset10.interpolate(node.input_value(0), sizes, scales, attrs["mode"], "scales", attrs["pads_begin"][2:],
                                      attrs["pads_end"][2:], attrs["coordinate_transformation_mode"], attrs["nearest_mode"],
                                      attrs["antialias"], attrs["cube_coeff"], np.array([2, 3], np.int32))
        else:
            continue
        new.set_friendly_name(node.get_friendly_name())
        for target in list(node.output(0).get_target_inputs()):
            target.replace_source_output(new.output(0))
    model.validate_nodes_and_infer_types()
    return model


def _one_image(model):
    """``model`` reshaped in place to a batch of one image, 320x320 where the graph leaves the size open."""
    dims = list(model.inputs[0].get_partial_shape())[1:]
    model.reshape({model.inputs[0]: [1, *(d.get_length() if d.is_static else 320 for d in dims)]})
    return model


def _conv_groups(model) -> tuple[list[list[str]], list[list[str]]]:
    """Per convolution: the layers that run as one (convolution, bias add, ReLU), and its island
    (those plus the concat feeding it and that concat's resizes)."""
    groups, islands = [], []
    for node in model.get_ordered_ops():
        if node.get_type_name() != "Convolution":
            continue
        group, current = [node.get_friendly_name()], node
        for kind in ("Add", "Relu"):
            consumers = [t.get_node() for t in current.output(0).get_target_inputs() if t.get_node().get_type_name() == kind]
            if len(consumers) != 1:
                break
            current = consumers[0]
            group.append(current.get_friendly_name())
        feeders = []
        source = node.input_value(0).get_node()
        if source.get_type_name() == "Concat":
            feeders = [source.get_friendly_name()] + [v.get_node().get_friendly_name() for v in source.input_values()
                                                       if v.get_node().get_type_name() == "Interpolate"]
        groups.append(group)
        islands.append(group + feeders)
    return groups, islands


class _MarkedIR:
    """The rebuilt graph as IR text whose layers can be marked to keep their own precision."""

    def __init__(self, model, scratch: Path) -> None:
        import openvino as ov

        scratch.mkdir(exist_ok=True)
        ov.save_model(model, str(scratch / "rebuilt.xml"), compress_to_fp16=False)
        self.tree = ET.parse(scratch / "rebuilt.xml")
        self.weights_file = scratch / "rebuilt.bin"
        self.weights = ov.Tensor(np.fromfile(self.weights_file, np.uint8))
        self.layers = {layer.get("name"): layer for layer in self.tree.getroot().iter("layer")}

    def text(self, keep: set[str]) -> bytes:
        """The IR with exactly the layers in ``keep`` marked."""
        for name, layer in self.layers.items():
            marks = [info for info in layer.findall("rt_info") if info.find(f"attribute[@name='{_KEEP}']") is not None]
            if name in keep and not marks:
                info = ET.SubElement(layer, "rt_info")
                ET.SubElement(info, "attribute", name=_KEEP, version="0", value="dynamic:dynamic")
            elif name not in keep:
                for info in marks:
                    layer.remove(info)
        return ET.tostring(self.tree.getroot())

    def compile(self, keep: set[str], threads: int, hint: str = "bf16"):
        import openvino as ov

        core = ov.Core()
        model = _one_image(core.read_model(self.text(keep), self.weights))
        config = {"INFERENCE_PRECISION_HINT": hint, "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        return core.compile_model(model, "CPU", config).create_infer_request()

    def install(self, keep: set[str], target: Path) -> None:
        staged = self.weights_file.with_name(target.name)
        staged.write_bytes(self.text(keep))
        install_ir(staged, self.weights_file, target)


def _normalised(saliency: np.ndarray) -> np.ndarray:
    """The map as rembg turns it into a mask: min-max normalised, in 0..255 levels."""
    low, high = saliency.min(), saliency.max()
    return (saliency - low) / max(high - low, 1e-12) * 255


def _with_int8(graph: Path, ranges: dict[str, tuple[float, float]], means: dict[str, tuple[np.ndarray, np.ndarray]] | None = None):
    """The rebuilt graph with the convolutions in ``ranges`` quantised: activations over their
    (low, high) range in 256 levels, weights symmetric per output channel in 255. With ``means``
    (see _input_means) each also gets its bias corrected: rounding weights and activations shifts
    a convolution's output by a per-channel mean that the layers after it carry on, and that
    shift, computed from the calibration photos, is taken back off."""
    import openvino.opset1 as opset1

    model = _rebuilt(graph)
    for node in model.get_ordered_ops():
        name = node.get_friendly_name()
        if name not in ranges:
            continue
        low, high = (np.float32(v) for v in ranges[name])
        weights = node.input_value(1).get_node().get_data().astype(np.float32)
        reach = np.maximum(np.abs(weights).reshape(len(weights), -1).max(axis=1), 1e-8).reshape(-1, 1, 1, 1)
        if means is not None:
            exact, quantised = means[name]
            rounded = np.round(weights / (reach / 127)) * (reach / 127)  # what the weights' FakeQuantize gives
            shift = rounded.sum(axis=(2, 3)) @ quantised - weights.sum(axis=(2, 3)) @ exact
            consumers = list(node.output(0).get_target_inputs())
            corrected = opset1.add(node.output(0), (-shift).astype(np.float32).reshape(1, -1, 1, 1))
            for consumer in consumers:
                consumer.replace_source_output(corrected.output(0))
        activations = opset1.fake_quantize(node.input_value(0), low, high, low, high, 256)
        quantised_weights = opset1.fake_quantize(node.input_value(1), -reach, reach, -reach, reach, 255)
        node.input(0).replace_source_output(activations.output(0))
        node.input(1).replace_source_output(quantised_weights.output(0))
    model.validate_nodes_and_infer_types()
    return model


def _conv_inputs(graph: Path, convolutions: Sequence[str], inputs: Sequence[np.ndarray]):
    """Per calibration input, each convolution's input (C, H, W) as fp32 computes it; each dict's
    arrays are only valid until the next is asked for."""
    import openvino as ov

    model = _rebuilt(graph)
    by_name = {node.get_friendly_name(): node for node in model.get_ordered_ops()}
    first = len(model.outputs)
    model.add_outputs([by_name[name].input_value(0) for name in convolutions])
    _one_image(model)
    request = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request()
    for x in inputs:
        results = request.infer({0: x})
        yield {name: results[first + i][0] for i, name in enumerate(convolutions)}


def _input_ranges(graph: Path, convolutions: Sequence[str], inputs: Sequence[np.ndarray]) -> list[dict[str, tuple[float, float]]]:
    """Each convolution's input range on each calibration input, in fp32 (always including 0)."""
    return [{name: (min(0.0, float(a.min())), max(0.0, float(a.max()))) for name, a in found.items()}
            for found in _conv_inputs(graph, convolutions, inputs)]


def _input_means(graph: Path, ranges: dict[str, tuple[float, float]], inputs: Sequence[np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per convolution in ``ranges``: its input's per-channel mean over the calibration inputs, as
    computed (fp32) and as quantised to its range (what the INT8 convolution sees)."""
    sums: dict[str, list[np.ndarray]] = {}
    for found in _conv_inputs(graph, list(ranges), inputs):
        for name, a in found.items():
            low, high = ranges[name]
            step = max(high - low, 1e-12) / 255
            quantised = np.clip(np.round((a - low) / step), 0, 255) * step + low
            means = [a.mean(axis=(1, 2), dtype=np.float64), quantised.mean(axis=(1, 2), dtype=np.float64)]
            sums[name] = [total + m for total, m in zip(sums[name], means)] if name in sums else means
    return {name: (exact / len(inputs), quantised / len(inputs)) for name, (exact, quantised) in sums.items()}


def _range_over(ranges: Sequence[dict[str, tuple[float, float]]], names: Sequence[str]) -> dict[str, tuple[float, float]]:
    """The convolutions' input ranges over several inputs' (see _input_ranges)."""
    return {name: (min(r[name][0] for r in ranges), max(r[name][1] for r in ranges)) for name in names}


def _heaviest(model, names: Sequence[str], count: int) -> list[str]:
    """The ``count`` convolutions of ``names`` with the most multiply-adds (for one image, see
    ``_one_image``): counted from the graph, so the choice is repeatable."""
    model = _one_image(model.clone())
    work = {}
    for node in model.get_ordered_ops():
        if node.get_friendly_name() in names:
            weights = node.input_value(1).get_partial_shape().to_shape()  # (out, in, kh, kw)
            work[node.get_friendly_name()] = int(np.prod(node.output(0).get_partial_shape().to_shape())) * int(np.prod(weights[1:]))
    return sorted(names, key=lambda name: -work[name])[:count]


@dataclass
class Made:
    kept_fp32: list[str] | None  # convolutions the bf16 network keeps in fp32 (None: no bf16 network)
    int8: list[str]  # convolutions the INT8 network runs in INT8


def build(graph: Path, bf16_target: Path | None, int8_target: Path, inputs: Sequence[np.ndarray], threads: int) -> Made:
    """Write the mixed-precision networks for ``graph`` (IR .xml + .bin), choosing on the network
    ``inputs`` (calibration photos, prepared): the bf16-with-fp32-islands one to ``bf16_target``
    (None: this CPU has no bf16, and the INT8 network's other layers stay fp32) and the INT8 one."""
    model = _rebuilt(graph)
    groups, islands = _conv_groups(model)
    hint = "f32" if bf16_target is None else "bf16"
    with tempfile.TemporaryDirectory(dir=int8_target.parent) as scratch_dir:
        scratch = Path(scratch_dir)
        ir = _MarkedIR(model, scratch)
        everything = set(ir.layers)
        saliency = SaliencyMaps(graph)

        def saliency_map(request, x: np.ndarray) -> np.ndarray:
            return _normalised(saliency(request.infer({0: x}))[0])

        exact = ir.compile(everything, threads, "f32")
        references = [saliency_map(exact, x) for x in inputs]

        def error(network: _MarkedIR, keep: set[str], photos: Sequence[int] = range(len(inputs))) -> float:
            """The map's worst mean error over these inputs, with these layers kept at fp32."""
            request = network.compile(keep, threads, hint)
            return max(float(np.abs(saliency_map(request, inputs[i]) - references[i]).mean()) for i in photos)

        sensitive = []
        if bf16_target is not None:
            def bf16_error(bf16_groups: Sequence[int]) -> float:
                return error(ir, everything - {name for g in bf16_groups for name in groups[g]})

            for start in range(0, len(groups), CHUNK):
                chunk = range(start, min(start + CHUNK, len(groups)))
                if bf16_error(chunk) > SENSITIVE:
                    sensitive += [g for g in chunk if bf16_error([g]) > SENSITIVE]
        kept = {name for g in sensitive for name in islands[g]}
        free = [groups[g][0] for g in range(len(groups)) if g not in sensitive]
        candidates = _heaviest(model, free, INT8_CANDIDATES)
        ranges = _input_ranges(graph, candidates, inputs)
        # Ranges taken on one half of the photos, error measured on the other half (and the other way
        # round): where ranges and error come from the same photos, a convolution whose activations
        # leave its range on new photos (and clip) does not show. On u2netp that let one more
        # convolution in (calibration error 0.25, held-out worst 4.3/255 instead of 1.4).
        halves = [range(0, len(inputs), 2), range(1, len(inputs), 2)] if len(inputs) > 1 else [range(1)] * 2
        int8: list[str] = []
        for name in candidates:
            chosen = [*int8, name]
            worst = max(error(_MarkedIR(_with_int8(graph, _range_over([ranges[i] for i in fit], chosen)), scratch / "trial"), kept, test)
                        for fit, test in zip(halves, reversed(halves)))
            if worst <= INT8_BOUND:
                int8.append(name)
        # The bias correction comes after the choice. Chosen with it, 14 convolutions stayed within the
        # bound on the calibration photos but moved the held-out photos' 320² maps by up to 3.6/255;
        # the 8 chosen without it, then corrected: 0.92 instead of 1.61 (full-size masks 0.97, 1.61).
        final = _range_over(ranges, int8)
        _MarkedIR(_with_int8(graph, final, _input_means(graph, final, inputs)), scratch / "int8").install(kept, int8_target)
        if bf16_target is not None:
            ir.install(kept, bf16_target)
    kept_fp32 = [groups[g][0] for g in sensitive]
    log.info("mixed precision: %d of %d convolutions kept in fp32 (%s), %d in INT8 (%s)", len(kept_fp32), len(groups),
             ", ".join(kept_fp32), len(int8), ", ".join(int8))
    return Made(None if bf16_target is None else kept_fp32, int8)
