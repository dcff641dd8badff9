# dist: the terms and their sources are in terms/dist.py; this fragment gives them to the
# distiller (composing methods: docs/composition.md).
_base_ = ['./_algorithm.py', './terms/dist.py']
model = dict(distiller=dict(compose=dict(dist=_base_.dist_terms)))
