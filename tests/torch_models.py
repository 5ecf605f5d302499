"""PyTorch models the importer tests share (tests/solver/test_import_*.py)."""

from __future__ import annotations

import torch
from torch import nn


class UNetLike(nn.Module):
    """Two levels, a skip by concat, a residual sum, norms and activations in between."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.enc2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.res = nn.Conv2d(2 * width, 2 * width, 3, padding=1)
        self.up = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.head = nn.Conv2d(2 * width, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = torch.relu(self.enc2(self.pool(e1)))
        e2 = e2 + self.res(e2)
        return self.head(torch.cat([e1, self.up(e2)], dim=1))


class Branchy(nn.Module):
    """Control flow on the data: fx cannot trace it; hooks read the chain."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 4, 5, stride=2, padding=1, dilation=2)
        self.b = nn.AvgPool2d(3, stride=2, ceil_mode=True)
        self.c = nn.ConvTranspose2d(4, 1, 3, stride=2, output_padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.a(x)
        if x.mean() < -1e9:  # never, but fx cannot know
            return x
        return self.c(self.b(x))
