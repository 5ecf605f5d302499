"""`python -m convsolve ...` runs the `convsolve` command."""

from solver.cli import app

app(prog_name="convsolve")
