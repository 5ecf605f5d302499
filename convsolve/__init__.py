"""`python -m convsolve`: the `convsolve` command (solver.cli); the library is `solver`."""
