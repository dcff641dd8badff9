"""The demo: every method distilled on the synthetic data set over paired seeds
(``pipeline``: the job graph and presets; ``report``: the markdown report; ``figures``: the
plots and the qualitative grid), its ablations (``ablation``) and the second table's searched
weights (``tuned``). ``tools/demo.py`` and ``tools/demo_ablation.py`` are its command lines."""
