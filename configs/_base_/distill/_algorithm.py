# The algorithm and distiller every method fragment fills: each method adds its terms to
# model.distiller.compose (mmseg_distill/models/distillers/composition.py says how entries
# combine), so a leaf composes methods by adding entries (docs/composition.md).
_base_ = './_runtime.py'
model = dict(
    _scope_='mmrazor',
    type='SegmentationDistill',
    distiller=dict(type='SegmentationDistiller', compose=dict()))
