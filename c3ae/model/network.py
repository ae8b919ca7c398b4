"""C3AE (Zhang et al., CVPR 2019): a compact CNN over three context crops.

One backbone is shared by the three 64x64 crops of a face (tight to loose
context). Per crop: three BRA blocks (3x3 conv without padding, BatchNorm,
ReLU, 2x2 average pooling), a fourth 3x3 conv + BN + ReLU and a 1x1 conv,
giving 4x4x32 features; optional squeeze-and-excitation after every conv
stage. The three 512-d features are concatenated (1536) and mapped to a
12-way softmax, the two-point distribution over the bins 0, 10, ..., 110,
and a linear layer turns that distribution into the age (the cascade).

Input is uint8 (or float in 0..255), shaped (N, 3 crops, 3 channels BGR,
64, 64), so the exported TorchScript file needs no preprocessing outside it.

`flip_average` (inference only) also reads the mirrored crops in the same
batch and averages the two distributions before the cascade: a face and its
mirror image have the same age, and averaging removes part of the noise for
twice the (small) compute. Training ignores it; the weights are the same.
"""
from __future__ import annotations

import torch
from torch import nn

from c3ae.crops import CROP_SIZE
from c3ae.twopoint import BINS


class SqueezeExcite(nn.Module):
    """Channel attention: global pool -> bottleneck -> sigmoid gate."""

    def __init__(self, channels: int, reduction: int = 2) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = x.mean(dim=(2, 3), keepdim=True)
        gate = torch.sigmoid(self.fc2(torch.relu(self.fc1(gate))))
        return x * gate


def conv_bn_relu(cin: int, cout: int, use_se: bool, se_reduction: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if use_se:
        layers.append(SqueezeExcite(cout, se_reduction))
    return nn.Sequential(*layers)


class C3AE(nn.Module):
    """The C3AE network; `forward` returns (age (N,), distribution (N, 12))."""

    def __init__(
        self,
        channels: int = 32,
        use_se: bool = True,
        se_reduction: int = 2,
        n_crops: int = 3,
        dropout: float = 0.2,
        flip_average: bool = False,
    ) -> None:
        super().__init__()
        self.n_crops = n_crops
        self.flip_average = flip_average
        self.crop_size = CROP_SIZE
        self.stem = nn.Sequential(
            conv_bn_relu(3, channels, use_se, se_reduction), nn.AvgPool2d(2),  # 64 -> 62 -> 31
            conv_bn_relu(channels, channels, use_se, se_reduction), nn.AvgPool2d(2),  # 31 -> 29 -> 14
            conv_bn_relu(channels, channels, use_se, se_reduction), nn.AvgPool2d(2),  # 14 -> 12 -> 6
            conv_bn_relu(channels, channels, use_se, se_reduction),  # 6 -> 4
            nn.Conv2d(channels, channels, 1),  # 4x4x32 = 512 per crop
        )
        n_features = n_crops * channels * 4 * 4
        self.dropout = nn.Dropout(dropout)
        self.to_dist = nn.Linear(n_features, len(BINS))
        self.to_age = nn.Linear(len(BINS), 1)
        with torch.no_grad():  # start the cascade as the expectation over bin centres
            self.to_age.weight.copy_(torch.from_numpy(BINS).view(1, -1))
            self.to_age.bias.zero_()

    def forward_features(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, n_crops, 3, 64, 64) uint8/float 0..255 -> (N, n_crops * 512)."""
        n = crops.shape[0]
        x = crops.reshape(n * self.n_crops, 3, self.crop_size, self.crop_size).float()
        x = (x - 127.5) / 64.0
        x = self.stem(x)
        return x.reshape(n, -1)

    def forward_head(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features -> (age (N,), two-point distribution (N, 12))."""
        logits = self.to_dist(self.dropout(features))
        dist = torch.softmax(logits, dim=1)
        age = self.to_age(dist).squeeze(1)
        return age, dist

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.flip_average and not self.training:
            n = crops.shape[0]
            _, dists = self.forward_head(self.forward_features(torch.cat([crops, crops.flip(-1)])))
            dist = 0.5 * (dists[:n] + dists[n:])
            return self.to_age(dist).squeeze(1), dist
        return self.forward_head(self.forward_features(crops))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
