"""An Optuna study whose trials only ever see designs that line up.

convsolve draws each trial's design uniformly from the valid settings of the search
space (search_space.yaml: three free convs before a head that needs 4 x 4, about 11% of
the settings line up): ConvsolveSampler answers the trial's suggest_int calls from that
design.  The same study with Optuna's default sampler (TPE) proposes each parameter on
its own, and most of its trials fail with a size error.

Why sampling rather than Optuna's constraints: a constraint is known only once a trial
has run, so TPE keeps spending trials (and the training they start) on settings that
cannot run, and learns little from them; sampled designs make every trial count.  The
objective is the same for both studies: only the sampler changes.

    python optuna_search.py               # 24 trials each
    python optuna_search.py --trials 48
"""

from __future__ import annotations

import argparse
import random
from typing import Any

import optuna
from tiny_cnn import PARAMS, SPACE, accuracy, layers_from

import solver


class ConvsolveSampler(optuna.samplers.BaseSampler):
    """Each trial gets one design drawn uniformly from the solutions of a convsolve solve
    document; a parameter named "layer.field" takes that layer's value."""

    def __init__(self, document: dict[str, Any], seed: int = 0, batch: int = 64) -> None:
        self.document, self.batch = document, batch
        self.rng = random.Random(seed)
        self.drawn: list[solver.Solution] = []
        self.designs: dict[int, dict[str, Any]] = {}  # trial number -> {layer name: layer}

    def infer_relative_search_space(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
        return {}

    def sample_relative(self, study: optuna.Study, trial: optuna.trial.FrozenTrial,
                        search_space: dict[str, Any]) -> dict[str, Any]:
        return {}

    def sample_independent(self, study: optuna.Study, trial: optuna.trial.FrozenTrial, param_name: str,
                           param_distribution: optuna.distributions.BaseDistribution) -> Any:
        design = self.designs.get(trial.number)
        if design is None:
            if not self.drawn:  # a batch of designs at a time: one count serves many trials
                self.drawn = solver.sample(self.document, self.batch, seed=self.rng.randrange(2**63)).solutions
            design = self.designs[trial.number] = {layer["name"]: layer for layer in self.drawn.pop().layers}
        name, field = param_name.split(".")
        value = design[name][field]
        return value[0] if isinstance(value, list) else value  # isotropic: every axis alike


def objective(trial: optuna.Trial) -> float:
    return accuracy(layers_from({name: trial.suggest_int(name, low, high) for name, (low, high) in PARAMS.items()}))


def run(sampler: optuna.samplers.BaseSampler, trials: int) -> optuna.Study:
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=trials, catch=(RuntimeError,))  # a size error fails the trial, not the study
    return study


def main(trials: int = 24) -> dict[str, tuple[int, int, float]]:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    results = {}
    for label, sampler in [("TPE alone", optuna.samplers.TPESampler(seed=0)),
                           ("convsolve sampler", ConvsolveSampler(SPACE, seed=0))]:
        study = run(sampler, trials)
        failed = sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials)
        best = max((t.value for t in study.trials if t.value is not None), default=float("nan"))
        results[label] = (trials, failed, best)
        print(f"{label:18} {trials} trials, {failed:2} failed with a size error, best accuracy {best:.3f}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=24)
    results = main(parser.parse_args().trials)
    assert results["convsolve sampler"][1] == 0, "a sampled design failed"
