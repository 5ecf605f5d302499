"""Plan U-Nets from their sizes: the paper's 572 -> 388 network, and a 3D U-Net for thin
volumes whose first level pools only in-plane."""

import solver

if __name__ == "__main__":
    paper = solver.plan_unet({"input_size": [572, 572], "conv": "valid", "skip": "crop",
                              "output_size": None, "out_channels": 2})
    d = paper.designs[0]
    print(f"U-Net 572 -> {d.output_size[0]}, {d.params:,} parameters")
    for level in d.levels:
        print(f"  level {level.level}: encoder {level.encoder[0]}, decoder {level.decoder[0]}")
    assert [lvl.decoder[0] for lvl in d.levels] == [388, 196, 100, 52]

    thin = solver.plan_unet({"input_size": [16, 128, 128], "depth": 3, "base_channels": 16,
                             "level_factors": [[1, 2, 2], 2, 2], "out_channels": 3})
    d = thin.designs[0]
    print("3D U-Net 16 x 128 x 128:", " -> ".join("x".join(map(str, lvl.encoder)) for lvl in d.levels))
    assert d.levels[1].encoder == [16, 64, 64] and d.output_size == [16, 128, 128]
