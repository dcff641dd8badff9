# pfs: the terms and their sources are in terms/pfs.py; this fragment gives
# them to the distiller (composing methods: docs/composition.md).
_base_ = ['./_algorithm.py', './terms/pfs.py']
model = dict(distiller=dict(compose=dict(pfs=_base_.pfs_terms)))
