"""The original U-Net (Ronneberger et al., 2015): 572 in, 388 out.

examples/unet_original.yaml: 4 levels of two convs and a 2x2 max
pool, two bottleneck convs, 4 levels of a 2x2 up-convolution, the encoder output cropped
to its size and concatenated (the skip), and two convs; every
conv shares one kernel size and padding.  The paper's valid 3x3 convs must be found.
"""

from pathlib import Path

import yaml

import solver

document = yaml.safe_load((Path(__file__).parent / "unet_original.yaml").read_text())

if __name__ == "__main__":
    result = solver.solve(document)
    print(f"{result.status.value}: {result.count} settings")
    for s in result.solutions:
        conv = s.layers[0]
        sizes = [x[0] for x in s.sizes[0]]
        print(f"  conv k{conv['kernel_size'][0]} p{conv['padding'][0]}: {sizes[1]} ... {sizes[13]} ... {sizes[-1]}")
    found = {(s.layers[0]["kernel_size"][0], s.layers[0]["padding"][0]) for s in result.solutions}
    assert result.status == "complete" and (3, 0) in found, "the paper's valid 3x3 convs are missing"
    print("the paper's setting (3x3, no padding) is among them")
