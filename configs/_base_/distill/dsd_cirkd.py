# dsd_cirkd: the terms and their sources are in terms/dsd_cirkd.py; this fragment gives
# them to the distiller (composing methods: docs/composition.md).
_base_ = ['./_algorithm.py', './terms/dsd_cirkd.py']
model = dict(distiller=dict(compose=dict(dsd=_base_.dsd_terms)))
