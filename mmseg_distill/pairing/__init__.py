"""Distilling a pair nobody shipped: what each model offers to record (``points``), the leaf
config of each method for the pair (``leaves``), each term's weight against the student's task
loss (``shares``), and a check that the written leaf builds and trains (``check``).
``tools/inspect_pair.py`` is the command line over this package."""
from ..engine.shares import BAND, TermStats, format_shares, measure_terms
from .leaves import Pair, PairError, leaf_texts, plan
from .points import (CropTooSmall, RecordingPoint, build_random, check_crop, format_side_by_side,
                     inspect_model, points_of)

__all__ = ['Pair', 'PairError', 'leaf_texts', 'plan', 'CropTooSmall', 'RecordingPoint',
           'build_random', 'check_crop', 'format_side_by_side', 'inspect_model', 'points_of',
           'BAND', 'TermStats', 'format_shares', 'measure_terms']
