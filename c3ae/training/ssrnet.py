"""SSR-Net (Yang et al., IJCAI 2018), the public MegaAge-Asian weights, ported to PyTorch.

Issue 33 measured it as a second opinion: it reads East Asian adults of about
25-60 better than ours (ours reads them 4 years young) and everyone else worse,
so only a gate by age range could help (`c3ae.training.second_opinion`).

Weights: `pre-trained/megaface_asian/ssrnet_3_3_3_64_1.0_1.0/ssrnet_3_3_3_64_1.0_1.0.h5`
of github.com/shamangary/SSR-Net (Apache-2.0; trained on MegaAge-Asian, never on
UTKFace or FG-NET). Facts of the port: Keras BatchNorm eps 1e-3; conv kernels
HWIO -> OIHW, dense kernels (in, out) -> (out, in); Keras flattens channels
last, so feature maps are flattened as (H, W, C); the input is raw BGR 0-255,
64x64, cut as the face box plus 0.4 of its width/height on each side, padded
with black (`ssr_crop`). h5py is a training-only dependency
(`requirements-training.txt`).

The Keras layer names are positional (conv2d_1, dense_1, ...), in the order the
original `SSR_net.__call__` creates them; `_LAYERS` lists that order by role.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

STAGES = (3, 3, 3)
LAMBDA_LOCAL, LAMBDA_D = 1.0, 1.0
SIZE = 64
MARGIN = 0.4
BN_EPS = 1e-3
# role -> Keras layer name, in the order SSR_net.__call__ builds them
_CONVS = {"x1": "conv2d_1", "x2": "conv2d_2", "x3": "conv2d_3", "x4": "conv2d_4",
          "s1": "conv2d_5", "s2": "conv2d_6", "s3": "conv2d_7", "s4": "conv2d_8",
          "s_top3": "conv2d_9", "x_top3": "conv2d_10", "s_top2": "conv2d_11", "x_top2": "conv2d_12",
          "s_top1": "conv2d_13", "x_top1": "conv2d_14"}
_BNS = {f"{b}{k}": f"batch_normalization_{i}" for i, (b, k) in
        enumerate([("x", 1), ("x", 2), ("x", 3), ("x", 4), ("s", 1), ("s", 2), ("s", 3), ("s", 4)], start=1)}
_DENSES = {"s_mix1": "dense_1", "x_mix1": "dense_2", "delta1": "delta_s1", "feat1": "dense_3",
           "pred1": "pred_age_stage1", "local1": "local_delta_stage1",
           "s_mix2": "dense_4", "x_mix2": "dense_5", "delta2": "delta_s2", "feat2": "dense_6",
           "pred2": "pred_age_stage2", "local2": "local_delta_stage2",
           "s_mix3": "dense_7", "x_mix3": "dense_8", "delta3": "delta_s3", "feat3": "dense_9",
           "pred3": "pred_age_stage3", "local3": "local_delta_stage3"}


class SSRNet(nn.Module):
    """(N, 3, 64, 64) float BGR 0-255 -> (N,) age. Stage k of the soft stagewise regression
    reads the two streams at 4x4, then 3x3 (from 14x14), then 3x3 (from 31x31)."""

    def __init__(self) -> None:
        super().__init__()
        convs = {"x1": (3, 32, 3), "x2": (32, 32, 3), "x3": (32, 32, 3), "x4": (32, 32, 3),
                 "s1": (3, 16, 3), "s2": (16, 16, 3), "s3": (16, 16, 3), "s4": (16, 16, 3),
                 "s_top3": (16, 10, 1), "x_top3": (32, 10, 1), "s_top2": (16, 10, 1), "x_top2": (32, 10, 1),
                 "s_top1": (16, 10, 1), "x_top1": (32, 10, 1)}
        self.convs = nn.ModuleDict({k: nn.Conv2d(i, o, s) for k, (i, o, s) in convs.items()})
        self.bns = nn.ModuleDict({k: nn.BatchNorm2d(32 if k[0] == "x" else 16, eps=BN_EPS) for k in _BNS})
        denses = {}
        for k, flat in ((1, 160), (2, 90), (3, 90)):
            n = STAGES[k - 1]
            denses.update({f"s_mix{k}": (flat, n), f"x_mix{k}": (flat, n), f"delta{k}": (flat, 1),
                           f"feat{k}": (n, 2 * n), f"pred{k}": (2 * n, n), f"local{k}": (2 * n, n)})
        self.denses = nn.ModuleDict({k: nn.Linear(i, o) for k, (i, o) in denses.items()})

    @staticmethod
    def _flat(t: torch.Tensor) -> torch.Tensor:
        return t.permute(0, 2, 3, 1).flatten(1)  # Keras: channels last

    def _block(self, t: torch.Tensor, k: str, act) -> torch.Tensor:
        return act(self.bns[k](self.convs[k](t)))

    def _stage(self, s_map: torch.Tensor, x_map: torch.Tensor, k: int) -> tuple[torch.Tensor, ...]:
        d = self.denses
        s, x = self._flat(s_map), self._flat(x_map)
        delta = torch.tanh(d[f"delta{k}"](s * x))
        mix = F.relu(d[f"s_mix{k}"](s)) * F.relu(d[f"x_mix{k}"](x))  # dropout: identity at inference
        feat = F.relu(d[f"feat{k}"](mix))
        return F.relu(d[f"pred{k}"](feat)), torch.tanh(d[f"local{k}"](feat)), delta

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        c = self.convs
        x = self._block(image, "x1", F.relu)
        x_l1 = F.avg_pool2d(x, 2)
        x_l2 = F.avg_pool2d(self._block(x_l1, "x2", F.relu), 2)
        x_l3 = F.avg_pool2d(self._block(x_l2, "x3", F.relu), 2)
        x = self._block(x_l3, "x4", F.relu)
        s_l1 = F.max_pool2d(self._block(image, "s1", torch.tanh), 2)
        s_l2 = F.max_pool2d(self._block(s_l1, "s2", torch.tanh), 2)
        s_l3 = F.max_pool2d(self._block(s_l2, "s3", torch.tanh), 2)
        s = self._block(s_l3, "s4", torch.tanh)
        stages = [
            self._stage(F.relu(c["s_top3"](s)), F.relu(c["x_top3"](x)), 1),
            self._stage(F.max_pool2d(F.relu(c["s_top2"](s_l2)), 4), F.avg_pool2d(F.relu(c["x_top2"](x_l2)), 4), 2),
            self._stage(F.max_pool2d(F.relu(c["s_top1"](s_l1)), 8), F.avg_pool2d(F.relu(c["x_top1"](x_l1)), 8), 3),
        ]
        age = torch.zeros(image.shape[0], dtype=image.dtype, device=image.device)
        scale = torch.ones_like(age)
        for k, (pred, local, delta) in enumerate(stages):
            n = STAGES[k]
            scale = scale * n * (1 + LAMBDA_D * delta[:, 0])
            idx = torch.arange(n, dtype=image.dtype, device=image.device)
            age = age + ((idx + LAMBDA_LOCAL * local) * pred).sum(dim=1) / scale
        return age * 101


def load_h5(path: Path) -> SSRNet:
    """The Keras h5 weights in an `SSRNet` (eval mode)."""
    import h5py  # training-only dependency

    net = SSRNet().eval()
    state = {}
    with h5py.File(path, "r") as f:
        def weight(layer: str, name: str) -> torch.Tensor:
            return torch.from_numpy(np.asarray(f[layer][layer][f"{name}:0"], np.float32))

        for role, layer in _CONVS.items():
            state[f"convs.{role}.weight"] = weight(layer, "kernel").permute(3, 2, 0, 1).contiguous()
            state[f"convs.{role}.bias"] = weight(layer, "bias")
        for role, layer in _BNS.items():
            for ours, keras in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
                                ("running_var", "moving_variance")):
                state[f"bns.{role}.{ours}"] = weight(layer, keras)
            state[f"bns.{role}.num_batches_tracked"] = torch.tensor(0)
        for role, layer in _DENSES.items():
            state[f"denses.{role}.weight"] = weight(layer, "kernel").t().contiguous()
            state[f"denses.{role}.bias"] = weight(layer, "bias")
    net.load_state_dict(state)
    return net


def ssr_crop(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(64, 64, 3) uint8 BGR: the box plus `MARGIN` of its width/height on each side,
    padded with black where that leaves the image (not clipped), resized."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    left, top = int(round(x1 - MARGIN * w)), int(round(y1 - MARGIN * h))
    right, bottom = int(round(x2 + MARGIN * w)), int(round(y2 + MARGIN * h))
    ih, iw = image.shape[:2]
    out = np.zeros((bottom - top, right - left, 3), np.uint8)
    sx0, sy0, sx1, sy1 = max(left, 0), max(top, 0), min(right, iw), min(bottom, ih)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - top:sy1 - top, sx0 - left:sx1 - left] = image[sy0:sy1, sx0:sx1]
    return cv2.resize(out, (SIZE, SIZE), interpolation=cv2.INTER_AREA if out.shape[0] > SIZE else cv2.INTER_LINEAR)


def predict(net: SSRNet, crops: np.ndarray, batch: int = 256) -> np.ndarray:
    """(N, 64, 64, 3) uint8 BGR crops -> (N,) ages."""
    out = []
    with torch.inference_mode():
        for i in range(0, len(crops), batch):
            t = torch.from_numpy(np.ascontiguousarray(crops[i:i + batch])).permute(0, 3, 1, 2).float()
            out.append(net(t).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.float32)
