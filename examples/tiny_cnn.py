"""The tiny model the search examples tune (optuna_search.py, ray_tune_search.py): three
convs and a linear head that needs a 4 x 4 map, on synthetic 28 x 28 images whose class
is the quadrant holding a bright square.  One trial trains it for two epochs on the CPU,
in about a second.

A design whose sizes do not line up fails as it would in any training script: torch
raises (the conv refuses its input, or the head's matrix product does not fit).

    python tiny_cnn.py      # trains one design that lines up, and shows one that does not
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn
from torch.nn import functional as F  # noqa: N812 - torch's own convention

#: The convsolve document of the search space (the layers' domains and the 4 x 4 target).
SPACE: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "search_space.yaml").read_text())
#: Every free parameter, as the searches name them: "conv1.kernel_size", ...
PARAMS = {f"{layer['name']}.{field}": (domain["min"], domain["max"])
          for layer in SPACE["layers"] for field, domain in layer.items() if isinstance(domain, dict)}


def images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 28, 28, generator=g)
    y = torch.randint(0, 4, (n,), generator=g)
    for i, quadrant in enumerate(y.tolist()):
        r, c = (quadrant // 2) * 14 + 3, (quadrant % 2) * 14 + 3
        x[i, 0, r:r + 4, c:c + 4] += 0.35
    return x, y


def layers_from(values: dict[str, int]) -> list[dict[str, Any]]:
    """The layers of a design given as {"conv1.kernel_size": 3, ...}."""
    return [{**layer, **{field: values[f"{layer['name']}.{field}"] for field in layer
                         if f"{layer['name']}.{field}" in values}} for layer in SPACE["layers"]]


def accuracy(layers: list[dict[str, Any]], seed: int = 0) -> float:
    """Train the design on 512 images for two epochs; its accuracy on 256 others."""
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    convs, channels = [], SPACE["in_channels"]
    for layer in layers:
        convs += [nn.Conv2d(channels, layer["out_channels"], _first(layer["kernel_size"]), _first(layer["stride"]),
                            _first(layer["padding"])), nn.ReLU()]
        channels = layer["out_channels"]
    model = nn.Sequential(*convs, nn.Flatten(), nn.Linear(channels * 4 * 4, 4))
    x, y = images(512, seed=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(2):
        for i in range(0, len(x), 64):
            optimizer.zero_grad()
            F.cross_entropy(model(x[i:i + 64]), y[i:i + 64]).backward()
            optimizer.step()
    xt, yt = images(256, seed=2)
    with torch.no_grad():
        return (model(xt).argmax(1) == yt).float().mean().item()


def _first(value: Any) -> int:
    """A convsolve design's per-axis list (isotropic here), or a plain int."""
    return value[0] if isinstance(value, list) else value


if __name__ == "__main__":
    good = layers_from({f"{n}.{f}": v for n in ("conv1", "conv2", "conv3")
                        for f, v in (("kernel_size", 3), ("stride", 2), ("padding", 1))})
    print(f"3x3 stride-2 convs: 28 -> 14 -> 7 -> 4, accuracy {accuracy(good):.2f}")
    try:
        accuracy(layers_from({**{f"{n}.{f}": 1 for n in ("conv1", "conv2", "conv3")
                                 for f in ("kernel_size", "stride")}, **{f"{n}.padding": 0 for n in ("conv1", "conv2", "conv3")}}))
    except RuntimeError as exc:
        print(f"1x1 stride-1 convs keep 28 x 28, and torch says: {str(exc).splitlines()[0]}")
