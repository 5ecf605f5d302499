"""Plan DCGAN's generator (1x1 noise -> 64x64) and discriminator (64x64 -> 1x1) from the
sizes alone: the published settings (kernel 4, stride 2, padding 1, and a stride-1
kernel-4 layer at the 1x1 end) are among the designs."""

import solver

if __name__ == "__main__":
    for kind in ("generator", "discriminator"):
        r = solver.plan_encoder_decoder({"kind": kind, "image_size": [64, 64], "depth": 5, "limit": 200})
        found = [[(x["kernel_size"][0], x["stride"][0], x["padding"][0]) for x in d.layers] for d in r.designs]
        ends = [(4, 1, 0)] + [(4, 2, 1)] * 4
        published = ends if kind == "generator" else ends[::-1]
        print(f"{kind}: {r.count} designs; the published one is among them: {published in found}")
        assert published in found
