"""What the config tests share."""
import pytest
import torch


@pytest.fixture(scope='session')
def stage1_checkpoint(tmp_path_factory):
    """KA stage-2 configs load a stage-1 auto-encoder; make one per teacher feature width."""
    from mmrazor.models.task_modules.recorder import ModuleInputsRecorder  # noqa: F401

    from mmseg_distill.models.connectors import KAAutoEncoderConnector
    folder = tmp_path_factory.mktemp('ka')

    def make(in_channels, prefix):
        path = str(folder / f'stage1_{in_channels}.pth')
        ae = KAAutoEncoderConnector(in_channels=in_channels)
        torch.save({'state_dict': {prefix + k: v for k, v in ae.state_dict().items()}}, path)
        return path

    return make
