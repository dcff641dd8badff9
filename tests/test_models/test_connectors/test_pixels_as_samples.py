"""PixelsAsSamplesConnector gives MMRazor's DISTLoss the official segmentation form of DIST."""
import pytest
import torch
from mmrazor.models.losses import DISTLoss

from benchmarks import naive_reference as naive
from mmseg_distill.models.connectors import PixelsAsSamplesConnector


def test_every_position_becomes_a_row_of_class_scores():
    maps = torch.arange(2 * 3 * 2 * 2, dtype=torch.float).reshape(2, 3, 2, 2)
    rows = PixelsAsSamplesConnector()(maps)
    assert rows.shape == (8, 3)
    assert torch.equal(rows[5], maps[1, :, 0, 1])


@pytest.mark.parametrize('shape', [(2, 5, 4, 3), (1, 3, 1, 1 + 1), (3, 7, 2, 2)])
def test_dist_through_the_connector_is_the_official_segmentation_form(shape):
    torch.manual_seed(0)
    zs, zt = torch.randn(shape) * 2, torch.randn(shape) * 2
    connector = PixelsAsSamplesConnector()
    ours = DISTLoss()(connector(zs), connector(zt))
    assert float(ours) == pytest.approx(float(naive.dist_segmentation(zs, zt)), rel=1e-5,
                                        abs=1e-6)
    # the 4-D logits fed directly give another relation (intra-class over the batch)
    if shape[0] > 1:
        assert float(DISTLoss()(zs, zt)) != pytest.approx(float(ours), rel=1e-3)


def test_identical_logits_give_zero_and_gradients_flow_to_the_student():
    zs = torch.randn(2, 4, 3, 3, requires_grad=True)
    connector = PixelsAsSamplesConnector()
    assert float(DISTLoss()(connector(zs), connector(zs.detach()))) == pytest.approx(0, abs=1e-5)
    DISTLoss()(connector(zs), connector(torch.randn(2, 4, 3, 3))).backward()
    assert zs.grad is not None and torch.isfinite(zs.grad).all() and zs.grad.abs().sum() > 0


def test_a_map_that_is_not_four_dimensional_is_refused_with_the_shape():
    with pytest.raises(ValueError, match=r'\(N, C, H, W\).*\(4, 3\)'):
        PixelsAsSamplesConnector()(torch.randn(4, 3))
