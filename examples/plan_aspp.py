"""Plan DeepLabv3's ASPP from its sizes: rates 6, 12, 18 at output stride 16 on a 513x513
input (a 33x33 bottleneck), 12, 24, 36 at output stride 8; and the warning for rates too
large for a small map."""

import solver

if __name__ == "__main__":
    for stride, rates in ((16, [6, 12, 18]), (8, [12, 24, 36])):
        r = solver.plan_aspp({"input_size": [513, 513], "output_stride": stride, "rates": rates})
        d = r.designs[0]
        pads = [layer["padding"][0] for layer in d.layers if layer["name"].startswith("rate")]
        print(f"output stride {stride}: bottleneck {d.input_size}, rates {rates} need padding {pads}")
        assert pads == rates and not r.warnings
    small = solver.plan_aspp({"bottleneck_size": [9, 9], "rates": [6, 12, 18]})
    print("warning:", small.warnings[0])
    assert "12, 18" in small.warnings[0]
