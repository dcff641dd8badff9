# aicsd_official: the terms and their sources are in terms/aicsd_official.py; this fragment gives
# them to the distiller (composing methods: docs/composition.md).
_base_ = ['./_algorithm.py', './terms/aicsd_official.py']
model = dict(distiller=dict(compose=dict(aicsd=_base_.aicsd_terms)))
