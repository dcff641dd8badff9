# pixel_kd: the terms and their sources are in terms/pixel_kd.py; this fragment gives
# them to the distiller (composing methods: docs/composition.md).
_base_ = ['./_algorithm.py', './terms/pixel_kd.py']
model = dict(distiller=dict(compose=dict(pixel_kd=_base_.pixel_kd_terms)))
