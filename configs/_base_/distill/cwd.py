# cwd: the terms and their sources are in terms/cwd.py; this fragment gives them to the
# distiller (composing methods: docs/composition.md).
_base_ = ['./_algorithm.py', './terms/cwd.py']
model = dict(distiller=dict(compose=dict(cwd=_base_.cwd_terms)))
