"""DCGAN's generator (Radford et al., 2015): a 1x1 latent to a 64x64 image.

Five transposed convs, the last four sharing one setting; which settings give 4, 8,
16, 32 and 64?  The published one, kernel 4, stride 2, padding 1 after a first
kernel-4 layer, must be among them.
"""

import solver

free = {"type": "conv_transpose", "kernel_size": {"min": 1, "max": 5}, "stride": {"min": 1, "max": 2},
        "padding": {"min": 0, "max": 2}, "output_padding": {"min": 0, "max": 1}}
names = ["g1", "g2", "g3", "g4", "g5"]
document = {
    "input_size": [1, 1],
    "in_channels": 100,
    "targets": {"g1": 4, "g2": 8, "g3": 16, "g4": 32},
    "target_size": [64, 64],
    "layers": [{**free, "name": n} for n in names],
    "ties": [{"layers": names[1:], "params": ["kernel_size", "stride", "padding", "output_padding"]}],
    "objective": ["smallest_kernels", "least_padding"],
    "limit": 50,
}

if __name__ == "__main__":
    result = solver.solve(document)
    print(f"{result.status.value}: {result.count} settings")
    for s in result.solutions[:5]:
        print("  " + "  ".join(f"k{layer['kernel_size'][0]} s{layer['stride'][0]} p{layer['padding'][0]} "
                               f"op{layer['output_padding'][0]}" for layer in s.layers[:2]), "...")
    published = [(4, 1, 0, 0)] + [(4, 2, 1, 0)] * 4
    found = [[(l["kernel_size"][0], l["stride"][0], l["padding"][0], l["output_padding"][0]) for l in s.layers]
             for s in result.solutions]
    assert result.status == "complete" and published in found, "the published DCGAN generator is missing"
    print("the published generator (k4 s1 p0, then k4 s2 p1) is among them")
