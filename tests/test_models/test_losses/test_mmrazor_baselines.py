"""MMRazor's ChannelWiseDivergence, as the CWD fragment uses it, is the formula its comments
state (checked against a reference written from it); DIST's form is in test_connectors."""
import pytest
import torch
from mmrazor.models.losses import ChannelWiseDivergence

from benchmarks import naive_reference as naive


@pytest.mark.parametrize('tau', [1.0, 4.0])
@pytest.mark.parametrize('shape', [(2, 5, 4, 3), (1, 2, 1, 2)])
def test_channel_wise_divergence_is_the_stated_formula(shape, tau):
    torch.manual_seed(1)
    zs, zt = torch.randn(shape) * 3, torch.randn(shape) * 3
    ours = ChannelWiseDivergence(tau=tau, loss_weight=1.0)(zs, zt)
    assert float(ours) == pytest.approx(naive.channel_wise_divergence(zs, zt, tau), rel=1e-5)
    assert float(ChannelWiseDivergence(tau=tau)(zs, zs)) == pytest.approx(0, abs=1e-6)
