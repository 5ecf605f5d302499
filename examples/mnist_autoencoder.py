"""An MNIST autoencoder: 28 -> 14 -> 7 and back to 28 with transposed convs.

The classic setting, 3x3 stride-2 convs with padding 1 down and 3x3 stride-2
transposed convs with padding 1 and output_padding 1 up, must be found.
"""

import solver

down = {"type": "conv", "kernel_size": {"min": 1, "max": 5}, "stride": 2, "padding": {"min": 0, "max": 2}}
up = {"type": "conv_transpose", "kernel_size": {"min": 1, "max": 5}, "stride": 2,
      "padding": {"min": 0, "max": 2}, "output_padding": {"min": 0, "max": 1}}
document = {
    "input_size": [28, 28],
    "target_size": "input",
    "targets": {"enc2": 7},
    "layers": [{**down, "name": "enc1"}, {**down, "name": "enc2"},
               {**up, "name": "dec1"}, {**up, "name": "dec2"}],
    "ties": [{"layers": ["enc1", "enc2"], "params": ["kernel_size", "padding"]},
             {"layers": ["dec1", "dec2"], "params": ["kernel_size", "padding", "output_padding"]}],
    "objective": "smallest_kernels",
}

if __name__ == "__main__":
    result = solver.solve(document)
    print(f"{result.status.value}: {result.count} settings")
    for s in result.solutions[:8]:
        enc, dec = s.layers[0], s.layers[2]
        print(f"  conv k{enc['kernel_size'][0]} p{enc['padding'][0]}  |  convT k{dec['kernel_size'][0]} "
              f"p{dec['padding'][0]} op{dec['output_padding'][0]}   sizes {[x[0] for x in s.sizes[0]]}")
    classic = ((3, 1), (3, 1, 1))
    found = {((s.layers[0]["kernel_size"][0], s.layers[0]["padding"][0]),
              (s.layers[2]["kernel_size"][0], s.layers[2]["padding"][0], s.layers[2]["output_padding"][0]))
             for s in result.solutions}
    assert result.status == "complete" and classic in found, "the classic 3x3 autoencoder is missing"
    print("the classic setting (3x3, padding 1, output_padding 1) is among them")
