"""``mmseg_distill.utils.device``: the tools' ``--device``."""
import pytest
import torch

from mmseg_distill.utils.batches import random_seg_batch
from mmseg_distill.utils.device import batch_to, model_device, tool_device


@pytest.mark.skipif(torch.cuda.is_available(), reason='the machine without CUDA')
def test_without_cuda_the_default_is_the_cpu_and_cuda_is_a_clear_error():
    assert tool_device() == torch.device('cpu') and tool_device('cpu') == torch.device('cpu')
    for name in ('cuda', 'cuda:1'):
        with pytest.raises(ValueError, match='no CUDA device is visible.*--device cpu'):
            tool_device(name)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_with_cuda_the_default_is_cuda_and_a_missing_index_is_a_clear_error():
    assert tool_device().type == 'cuda'
    with pytest.raises(ValueError, match='device index below'):
        tool_device(f'cuda:{torch.cuda.device_count()}')


def test_a_batch_moves_with_its_data_samples_to_the_models_device():
    inputs, samples = random_seg_batch(2, (8, 8), 3, seed=0)
    meta = torch.device('meta')  # a device other than the CPU on every machine
    moved_inputs, moved = batch_to((inputs, samples), meta)
    assert moved_inputs.device == meta and moved[0].gt_sem_seg.data.device == meta
    assert samples[0].gt_sem_seg.data.device.type == 'cpu'  # the originals stay
    assert model_device(torch.nn.Conv2d(1, 1, 1).to(meta)) == meta
    assert model_device(torch.nn.ReLU()) == torch.device('cpu')
