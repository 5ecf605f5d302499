"""A Ray Tune search over designs that line up.

The search space is built from convsolve's samples: designs drawn uniformly, without
repeats, from the valid settings of search_space.yaml (about 11% of the settings line
up), and Tune chooses among them.  The same search with Tune's own space (a randint per
parameter) fails most of its trials with a size error.

    python ray_tune_search.py              # 12 trials each, on a Ray instance started here
    python ray_tune_search.py --trials 24 --address auto
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import ray
from ray import tune
from tiny_cnn import PARAMS, SPACE, accuracy, layers_from

import solver

HERE = str(Path(__file__).resolve().parent)


def train(config: dict[str, Any]) -> dict[str, float]:
    sys.path.insert(0, HERE)  # Tune's workers import tiny_cnn from here too
    layers = config["design"] if "design" in config else layers_from(config)
    return {"accuracy": accuracy(layers)}


def search(param_space: dict[str, Any], trials: int, storage: str) -> tune.ResultGrid:
    tuner = tune.Tuner(
        tune.with_resources(train, {"cpu": 1}), param_space=param_space,
        tune_config=tune.TuneConfig(num_samples=trials, metric="accuracy", mode="max"),
        run_config=tune.RunConfig(storage_path=storage, verbose=0))
    return tuner.fit()


def main(trials: int = 12, address: str | None = None) -> dict[str, tuple[int, int, float]]:
    ray.init(address=address, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {
        "PYTHONPATH": HERE}})
    designs = [s.layers for s in solver.sample(SPACE, trials, seed=0, replace=False).solutions]
    spaces = {"Tune alone": {name: tune.randint(low, high + 1) for name, (low, high) in PARAMS.items()},
              "convsolve samples": {"design": tune.grid_search(designs)}}  # each sampled design once
    results = {}
    with tempfile.TemporaryDirectory() as storage:
        for label, space in spaces.items():
            grid = search(space, trials if label == "Tune alone" else 1, storage)
            done = [r.metrics["accuracy"] for r in grid if r.error is None]
            results[label] = (len(grid), grid.num_errors, max(done, default=float("nan")))
            print(f"{label:18} {len(grid)} trials, {grid.num_errors:2} failed with a size error, "
                  f"best accuracy {results[label][2]:.3f}")
    ray.shutdown()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--address", help="a Ray cluster's address (default: start one here)")
    arguments = parser.parse_args()
    results = main(arguments.trials, arguments.address)
    assert results["convsolve samples"][1] == 0, "a sampled design failed"
