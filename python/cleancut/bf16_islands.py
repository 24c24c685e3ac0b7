"""bf16 with fp32 islands: the network `openvino-cpu-bf16` runs.

bf16 arithmetic runs u2netp about 1.7x faster than fp32 on CPUs that have it, but moves its mask by
up to 9.5/255. Nearly all of that comes from a few convolutions (in u2netp 4 of 119, each merging
an upsampled map with its skip connection late in the decoder). Each convolution is measured alone
in bf16 on the calibration photos; those that move the network's map keep fp32, with the concat
and resize that feed them, and everything else runs in bf16.

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
from pathlib import Path

import numpy as np

from .files import install_ir

log = logging.getLogger(__name__)

SENSITIVE = 0.1  # a convolution alone in bf16 moving the 320² map by more (mean, 0..255 levels) keeps fp32
CHUNK = 8  # convolutions tried in bf16 together before one at a time
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

    def compile(self, keep: set[str], threads: int):
        import openvino as ov

        core = ov.Core()
        model = core.read_model(self.text(keep), self.weights)
        dims = list(model.inputs[0].get_partial_shape())[1:]
        model.reshape({model.inputs[0]: [1, *(d.get_length() if d.is_static else 320 for d in dims)]})
        config = {"INFERENCE_PRECISION_HINT": "bf16", "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        return core.compile_model(model, "CPU", config).create_infer_request()


def _normalised(saliency: np.ndarray) -> np.ndarray:
    """The map as rembg turns it into a mask: min-max normalised, in 0..255 levels."""
    low, high = saliency.min(), saliency.max()
    return (saliency - low) / max(high - low, 1e-12) * 255


def build(graph: Path, target: Path, inputs: Sequence[np.ndarray], threads: int) -> list[str]:
    """Write the bf16-with-fp32-islands network for ``graph`` to ``target`` (IR .xml + .bin),
    choosing the islands on the network ``inputs`` (calibration photos, prepared); returns the
    convolutions kept in fp32."""
    model = _rebuilt(graph)
    groups, islands = _conv_groups(model)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch_dir:
        scratch = Path(scratch_dir)
        ir = _MarkedIR(model, scratch)
        everything = set(ir.layers)
        exact = ir.compile(everything, threads)
        references = [_normalised(exact.infer({0: x})[0][0, 0]) for x in inputs]

        def error(bf16_groups: Sequence[int]) -> float:
            """The map's worst mean error when only these convolutions run in bf16."""
            request = ir.compile(everything - {name for g in bf16_groups for name in groups[g]}, threads)
            return max(float(np.abs(_normalised(request.infer({0: x})[0][0, 0]) - reference).mean())
                       for x, reference in zip(inputs, references))

        sensitive = []
        for start in range(0, len(groups), CHUNK):
            chunk = range(start, min(start + CHUNK, len(groups)))
            if error(chunk) > SENSITIVE:
                sensitive += [g for g in chunk if error([g]) > SENSITIVE]
        kept = {name for g in sensitive for name in islands[g]}
        staged = scratch / target.name
        staged.write_bytes(ir.text(kept))
        install_ir(staged, ir.weights_file, target)
    names = [groups[g][0] for g in sensitive]
    log.info("bf16 network: %d of %d convolutions kept in fp32: %s", len(names), len(groups), ", ".join(names))
    return names
