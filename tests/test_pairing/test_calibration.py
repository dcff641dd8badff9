"""The weight rules of ``mmseg_distill.pairing.calibration``, on terms with known values."""
import pytest

from mmseg_distill.engine.shares import BAND, INSIDE, TermStats
from mmseg_distill.pairing.calibration import balance_weight, in_band_weights, reference_weights


def terms(**values):
    """{name: TermStats(weight, unweighted)} with the share against a task loss of 1."""
    return {name: TermStats(weight, unweighted, 0.0, share=weight * unweighted)
            for name, (weight, unweighted) in values.items()}


def test_a_reference_weight_gives_the_reference_weighted_magnitude():
    ours = terms(loss_a=(1.0, 4.0), loss_b=(2.0, 0.5), loss_c=(1.0, 3.0))
    reference = terms(loss_a=(3.0, 2.0), loss_b=(1.0, 1.0))  # weighted 6 and 1
    weights = reference_weights(ours, reference)
    assert set(weights) == {'loss_a', 'loss_b'}  # loss_c has no reference
    assert weights['loss_a'] * ours['loss_a'].unweighted == pytest.approx(6.0)
    assert weights['loss_b'] * ours['loss_b'].unweighted == pytest.approx(1.0)


def test_a_balanced_weight_equals_the_anchors_weighted_magnitude():
    ours = terms(loss_a=(1.0, 4.0), loss_b=(2.0, 0.5))
    target, weight = balance_weight(ours, 'loss_a=loss_b')
    assert target == 'loss_a' and weight * 4.0 == pytest.approx(2.0 * 0.5)
    for bad in ('loss_a', 'loss_a=loss_x', '=loss_b'):
        with pytest.raises(KeyError, match='LOSS_A=LOSS_B'):
            balance_weight(ours, bad)


def test_out_of_band_terms_are_moved_inside_or_named():
    ours = terms(dead=(1.0, BAND[0] / 10), ok=(1.0, 1.0), dominant=(2.0, BAND[1]))
    weights, notes = in_band_weights(ours, calibrate=True, what='a random teacher')
    assert set(weights) == {'dead', 'dominant'} and notes == []
    # the new weight puts the term INSIDE times inside the edge it crossed
    assert weights['dead'][0] * ours['dead'].unweighted == pytest.approx(
        BAND[0] * INSIDE, rel=1e-3)
    assert weights['dominant'][0] * ours['dominant'].unweighted == pytest.approx(
        BAND[1] / INSIDE, rel=1e-3)
    assert 'calibration: tools/inspect_pair.py measured dead at' in weights['dead'][1]
    assert '(a random teacher)' in weights['dead'][1]
    kept, notes = in_band_weights(ours, calibrate=False, what='x')
    assert kept == {} and len(notes) == 2 and all('would bring it inside' in n for n in notes)
