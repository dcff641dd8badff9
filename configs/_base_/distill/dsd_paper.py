# dsd_paper: the terms and their sources are in terms/dsd_paper.py; this fragment gives
# them to the distiller (composing methods: docs/composition.md).
_base_ = ['./_algorithm.py', './terms/dsd_paper.py']
model = dict(distiller=dict(compose=dict(dsd=_base_.dsd_terms)))
