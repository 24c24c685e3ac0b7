"""The published U²-Net architecture (Qin et al. 2020, "U²-Net: Going Deeper with Nested
U-Structure for Salient Object Detection"), written from the paper's description, with random
weights: for judging backends on the full-size network's cost. Exported to ONNX laid out like
rembg's models (N x 3 x 320 x 320 in; seven sigmoid maps out, d0 first). The weights are random,
so the masks mean nothing; only speed is measured with it. Needs PyTorch (`pip install torch`)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional

# (depth, in, mid, out, dilated) per stage: encoder 1-6, then decoder 5-1.
FULL = {
    "encoder": [(7, 3, 32, 64, False), (6, 64, 32, 128, False), (5, 128, 64, 256, False), (4, 256, 128, 512, False),
                (4, 512, 256, 512, True), (4, 512, 256, 512, True)],
    "decoder": [(4, 1024, 256, 512, True), (4, 1024, 128, 256, False), (5, 512, 64, 128, False), (6, 256, 32, 64, False),
                (7, 128, 16, 64, False)],
}
SMALL = {  # u2netp: the same graph, 16 middle channels, 64 out
    "encoder": [(7, 3, 16, 64, False), (6, 64, 16, 64, False), (5, 64, 16, 64, False), (4, 64, 16, 64, False),
                (4, 64, 16, 64, True), (4, 64, 16, 64, True)],
    "decoder": [(4, 128, 16, 64, True), (4, 128, 16, 64, False), (5, 128, 16, 64, False), (6, 128, 16, 64, False),
                (7, 128, 16, 64, False)],
}


class ConvBnRelu(nn.Sequential):
    def __init__(self, channels_in: int, channels_out: int, dilation: int = 1) -> None:
        super().__init__(
            nn.Conv2d(channels_in, channels_out, 3, padding=dilation, dilation=dilation),
            nn.BatchNorm2d(channels_out),
            nn.ReLU(inplace=True),
        )


def upsample_like(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return functional.interpolate(x, size=target.shape[2:], mode="bilinear", align_corners=False)


class ResidualU(nn.Module):
    """RSU-L: a U-Net of `depth` levels inside a residual block. Pooling halves the resolution after
    each level but the last two; the deepest level is dilated instead. RSU-4F (`dilated`) keeps the
    resolution throughout and widens the dilation 1, 2, 4, 8."""

    def __init__(self, depth: int, channels_in: int, channels_mid: int, channels_out: int, dilated: bool) -> None:
        super().__init__()
        self.dilated = dilated
        dilations = [2**i for i in range(depth)] if dilated else [1] * (depth - 1) + [2]
        self.entry = ConvBnRelu(channels_in, channels_out)
        self.down = nn.ModuleList(ConvBnRelu(channels_out if i == 0 else channels_mid, channels_mid, dilations[i]) for i in range(depth))
        self.up = nn.ModuleList(ConvBnRelu(2 * channels_mid, channels_out if i == 0 else channels_mid, dilations[i]) for i in range(depth - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        entry = self.entry(x)
        levels, h = [], entry
        for i, layer in enumerate(self.down):
            h = layer(h)
            levels.append(h)
            if not self.dilated and i < len(self.down) - 2:
                h = functional.max_pool2d(h, 2, stride=2, ceil_mode=True)
        for i in reversed(range(len(self.up))):
            h = self.up[i](torch.cat([h, levels[i]], dim=1))
            if not self.dilated and i > 0:
                h = upsample_like(h, levels[i - 1])
        return h + entry


class U2Net(nn.Module):
    def __init__(self, stages: dict) -> None:
        super().__init__()
        self.encoder = nn.ModuleList(ResidualU(*spec) for spec in stages["encoder"])
        self.decoder = nn.ModuleList(ResidualU(*spec) for spec in stages["decoder"])
        side_channels = [stages["decoder"][-1 - i][3] for i in range(5)] + [stages["encoder"][-1][3]]
        self.sides = nn.ModuleList(nn.Conv2d(c, 1, 3, padding=1) for c in side_channels)
        self.fuse = nn.Conv2d(6, 1, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        skips, h = [], x
        for i, stage in enumerate(self.encoder):
            h = stage(h)
            skips.append(h)
            if i < len(self.encoder) - 1:
                h = functional.max_pool2d(h, 2, stride=2, ceil_mode=True)
        decoded = [skips[-1]]  # stage 6, then decoder stages 5..1
        for i, stage in enumerate(self.decoder):
            skip = skips[-2 - i]
            h = stage(torch.cat([upsample_like(decoded[-1], skip), skip], dim=1))
            decoded.append(h)
        maps = [upsample_like(side(feature), x) for side, feature in zip(self.sides, reversed(decoded))]
        fused = self.fuse(torch.cat(maps, dim=1))
        return tuple(torch.sigmoid(m) for m in [fused, *maps])


def export(path: Path, stages: dict = FULL, seed: int = 0) -> Path:
    """Random-weight network -> ONNX at `path` (batch dimension dynamic)."""
    torch.manual_seed(seed)
    model = U2Net(stages).eval()
    example = torch.randn(1, 3, 320, 320)
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(path), input_names=["input.1"], output_names=[f"d{i}" for i in range(7)],
                          dynamic_axes={"input.1": {0: "batch"}}, opset_version=17, dynamo=False)
    return path


def parameter_count(stages: dict) -> int:
    return sum(p.numel() for p in U2Net(stages).parameters())
