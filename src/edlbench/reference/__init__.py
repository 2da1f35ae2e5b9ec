"""The built-in reference oracle: a classical force field with global surface charge (OpenMM)."""
