# ka_stage2_paper: the terms and their sources are in terms/ka_stage2_paper.py; this fragment gives
# them to the distiller (composing methods: docs/composition.md).
_base_ = ['./_algorithm.py', './terms/ka_stage2_paper.py']
model = dict(distiller=dict(compose=dict(ka=_base_.ka_terms)))
