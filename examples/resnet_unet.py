"""A U-Net with a ResNet-18 encoder, written the way segmentation libraries write it:
the encoder's stages give the skips (1/2, 1/4, 1/8, 1/16, 1/32), and each decoder block
upsamples by 2 with F.interpolate, concatenates its skip and runs two 3x3 convs.

Which input sizes does it take, and what to do with a 500 x 375 image?

    convsolve input-sizes --model examples.resnet_unet:resnet_unet --min 32 --max 1024 --near 500,375

This script asks convsolve, then runs the real model in torch on every size from 32 to
160 along one axis and checks that the sizes torch runs are the ones convsolve says.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - torch's own convention


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class Encoder(nn.Module):
    """ResNet-18 without its head (widths divided by `shrink`, to run fast on a CPU)."""

    def __init__(self, shrink: int = 8) -> None:
        super().__init__()
        w = [64 // shrink, 64 // shrink, 128 // shrink, 256 // shrink, 512 // shrink]
        self.conv1 = nn.Conv2d(3, w[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(w[0], w[1], 1), BasicBlock(w[1], w[1], 1))
        self.layer2 = nn.Sequential(BasicBlock(w[1], w[2], 2), BasicBlock(w[2], w[2], 1))
        self.layer3 = nn.Sequential(BasicBlock(w[2], w[3], 2), BasicBlock(w[3], w[3], 1))
        self.layer4 = nn.Sequential(BasicBlock(w[3], w[4], 2), BasicBlock(w[4], w[4], 1))
        self.widths = w

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        s1 = F.relu(self.bn1(self.conv1(x)))
        s2 = self.layer1(self.maxpool(s1))
        s3 = self.layer2(s2)
        s4 = self.layer3(s3)
        return [s1, s2, s3, s4, self.layer4(s4)]


class DecoderBlock(nn.Module):
    def __init__(self, cin: int, skip: int, cout: int) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(cin + skip, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                                   nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                                   nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv2(self.conv1(x))


class ResNetUNet(nn.Module):
    def __init__(self, classes: int = 2, shrink: int = 8) -> None:
        super().__init__()
        self.encoder = Encoder(shrink)
        w = self.encoder.widths
        d = [256 // shrink, 128 // shrink, 64 // shrink, 32 // shrink, 16 // shrink]
        self.blocks = nn.ModuleList([DecoderBlock(w[4], w[3], d[0]), DecoderBlock(d[0], w[2], d[1]),
                                     DecoderBlock(d[1], w[1], d[2]), DecoderBlock(d[2], w[0], d[3]),
                                     DecoderBlock(d[3], 0, d[4])])
        self.head = nn.Conv2d(d[4], classes, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s1, s2, s3, s4, x = self.encoder(x)
        for block, skip in zip(self.blocks, [s4, s3, s2, s1, None], strict=True):
            x = block(x, skip)
        return self.head(x)


def resnet_unet(classes: int = 2, shrink: int = 8) -> ResNetUNet:
    return ResNetUNet(classes, shrink).eval()


def runs_in_torch(model: nn.Module, height: int, width: int) -> bool:
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, height, width))
    except RuntimeError:
        return False
    return True


if __name__ == "__main__":
    import solver

    model = resnet_unet()
    imported = solver.from_torch(model, [500, 375])
    answer = solver.input_sizes({**imported.document, "range": {"min": 32, "max": 160}})
    print(f"read with {imported.traced_with}: {len(imported.document['layers'])} layers")
    print(answer.message)
    said = set(answer.axes[0].sizes)  # axis 0
    ran = {h for h in range(32, 161) if runs_in_torch(model, h, 64)}
    assert said == ran, (sorted(said ^ ran))
    print(f"torch runs exactly the {len(ran)} sizes from 32 to 160 that convsolve says")
