"""The engines: the forward arithmetic, the normalized Problem, the size rules compiled
per layer, bounds, the exact dynamic program, CP-SAT (the only module that imports
ortools), and the deadline every loop obeys."""
