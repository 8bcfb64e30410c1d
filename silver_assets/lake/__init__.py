"""Demo Silver lake: a synthetic generator built around real GPR and macro reference figures."""
