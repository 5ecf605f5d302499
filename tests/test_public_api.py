"""The package's public names are exactly what `solver.__all__` says."""

import types

import solver


def test_all_lists_every_public_name() -> None:
    public = {name for name, value in vars(solver).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert public | {"__version__"} == set(solver.__all__)
    assert all(hasattr(solver, name) for name in solver.__all__)


def test_every_error_is_a_convsolve_error() -> None:
    for error in (solver.DocumentError, solver.LayerRejected, solver.LimitExceeded):
        assert issubclass(error, solver.ConvsolveError) and issubclass(error, ValueError)
