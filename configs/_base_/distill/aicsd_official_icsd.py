# aicsd_official_icsd: the terms and their sources are in terms/aicsd_official_icsd.py; this fragment gives
# them to the distiller (composing methods: docs/composition.md).
_base_ = ['./_algorithm.py', './terms/aicsd_official_icsd.py']
model = dict(distiller=dict(compose=dict(aicsd=_base_.aicsd_terms)))
custom_hooks = _base_.custom_hooks + _base_.aicsd_hooks
