# aicsd_paper: the terms and their sources are in terms/aicsd_paper.py; this fragment gives
# them to the distiller (composing methods: docs/composition.md).
_base_ = ['./_algorithm.py', './terms/aicsd_paper.py']
model = dict(distiller=dict(compose=dict(aicsd=_base_.aicsd_terms)))
custom_hooks = _base_.custom_hooks + _base_.aicsd_hooks
