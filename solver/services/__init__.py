"""What users ask for, built on the engines: solve, explain, refusal suggestions, the
planners, valid input sizes, and export to PyTorch and Keras code."""
