import pytest
import torch
from tiny_pair import build_algorithm, fake_batch, load_model_cfg

import mmseg_distill  # noqa: F401
from mmseg_distill.models.connectors import KAAutoEncoderConnector


def test_train_mode_returns_code_and_same_shape_reconstruction():
    ae = KAAutoEncoderConnector(in_channels=8)
    code, recon = ae(torch.randn(2, 8, 5, 6))
    assert code.shape == (2, 4, 5, 6) and recon.shape == (2, 8, 5, 6)
    strided = KAAutoEncoderConnector(in_channels=8, strides=(2, 1, 1))
    code, recon = strided(torch.randn(2, 8, 6, 6))
    assert code.shape == (2, 4, 3, 3) and recon.shape == (2, 8, 6, 6)


def test_encode_mode_requires_the_stage1_checkpoint_and_loads_it_strictly(tmp_path):
    with pytest.raises(ValueError, match='checkpoint=<stage-1'):
        KAAutoEncoderConnector(in_channels=8, mode='encode')
    trained = KAAutoEncoderConnector(in_channels=8)
    prefix = 'distiller.connectors.teacher_autoencoder.'
    path = str(tmp_path / 's1.pth')
    torch.save({'state_dict': {prefix + k: v for k, v in trained.state_dict().items()}}, path)
    encoder = KAAutoEncoderConnector(in_channels=8, mode='encode', checkpoint=path)
    for key, value in trained.state_dict().items():
        torch.testing.assert_close(encoder.state_dict()[key], value)
    assert not any(p.requires_grad for p in encoder.parameters())
    encoder.train()
    assert not encoder.encoder[0].bn.training  # frozen BN statistics
    trained.eval()
    x = torch.randn(2, 8, 4, 4)
    torch.testing.assert_close(encoder(x), trained(x)[0])
    with pytest.raises(KeyError, match='wrong.prefix'):
        KAAutoEncoderConnector(in_channels=8, mode='encode', checkpoint=path,
                               checkpoint_prefix='wrong.prefix.')
    with pytest.raises(ValueError, match=r'encoder.0.conv.weight: \(8, 8, 3, 3\) vs \(6, 6'):
        KAAutoEncoderConnector(in_channels=6, mode='encode', checkpoint=path)


def test_ka_two_stages_on_the_tiny_pair(tmp_path):
    stage1 = build_algorithm(load_model_cfg('ka', 'ka-stage1'))
    losses = stage1.loss(*fake_batch())
    assert set(losses) == {'distill.loss_ae'}
    losses['distill.loss_ae'].backward()
    ae = stage1.distiller.connectors['teacher_autoencoder']
    assert all(p.grad is not None for p in ae.parameters())
    assert all(p.grad is None for p in stage1.student.parameters())
    path = str(tmp_path / 'stage1.pth')
    torch.save({'state_dict': stage1.state_dict()}, path)
    cfg = load_model_cfg('ka', 'ka-stage2')
    cfg.distiller.connectors.teacher_autoencoder.checkpoint = path
    stage2 = build_algorithm(cfg)
    encoder = stage2.distiller.connectors['teacher_autoencoder']
    torch.testing.assert_close(encoder.encoder[0].conv.weight, ae.encoder[0].conv.weight)
    losses = stage2.loss(*fake_batch())
    assert torch.isfinite(losses['distill.loss_ka']) and torch.isfinite(
        losses['distill.loss_affinity'])
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in encoder.parameters())
    adapter = stage2.distiller.connectors['student_adapter']
    assert all(p.grad is not None for p in adapter.parameters())


def test_torchdistill_form_has_leaky_relu_and_bn_activation_after_every_layer():
    """The default (ReLU, linear last decoder layer) is the project's; torchdistill's
    paraphraser (LeakyReLU 0.1, BN + activation after every layer) is one option away."""
    default = KAAutoEncoderConnector(in_channels=8)
    assert isinstance(default.encoder[0].activate, torch.nn.ReLU)
    assert [type(m) for m in default.decoder[-1]] == [torch.nn.ConvTranspose2d]
    paraphraser = KAAutoEncoderConnector(
        in_channels=8, act_cfg=dict(type='LeakyReLU', negative_slope=0.1),
        decoder_last='norm_act')
    activations = [paraphraser.encoder[i].activate for i in range(3)] + \
        [paraphraser.decoder[i][2] for i in range(3)]
    assert all(isinstance(a, torch.nn.LeakyReLU) and a.negative_slope == 0.1
               for a in activations)
    assert isinstance(paraphraser.decoder[-1][1], torch.nn.BatchNorm2d)
    code, recon = paraphraser(torch.randn(2, 8, 5, 5))
    assert code.shape == (2, 4, 5, 5) and recon.shape == (2, 8, 5, 5)
    # the last activation is real: LeakyReLU's negative side is scaled by 0.1 exactly
    with torch.no_grad():
        pre = paraphraser.decoder[-1][1](paraphraser.decoder[-1][0](paraphraser.decoder[:2](code)))
    torch.testing.assert_close(recon, torch.where(pre > 0, pre, 0.1 * pre))
    with pytest.raises(ValueError, match='decoder_last'):
        KAAutoEncoderConnector(in_channels=8, decoder_last='relu')


def test_encode_mode_reads_the_last_checkpoint_of_a_stage1_work_directory(tmp_path):
    trained = KAAutoEncoderConnector(in_channels=8)
    prefix = 'distiller.connectors.teacher_autoencoder.'
    run = tmp_path / 'work_dirs' / 'ka-stage1_x'
    run.mkdir(parents=True)
    # MMEngine records the last checkpoint of a run by path in last_checkpoint, whatever its
    # name (epoch_1.pth here, iter_N.pth for an iteration-based run)
    torch.save({'state_dict': {prefix + k: v for k, v in trained.state_dict().items()}},
               run / 'epoch_1.pth')
    torch.save({'state_dict': {}}, run / 'epoch_0.pth')  # an older one, not the last
    (run / 'last_checkpoint').write_text(str(run / 'epoch_1.pth'))
    encoder = KAAutoEncoderConnector(in_channels=8, mode='encode', checkpoint=str(run))
    for key, value in trained.state_dict().items():
        torch.testing.assert_close(encoder.state_dict()[key], value)
    (run / 'last_checkpoint').unlink()
    with pytest.raises(FileNotFoundError, match='without last_checkpoint.*Run the stage-1 leaf'):
        KAAutoEncoderConnector(in_channels=8, mode='encode', checkpoint=str(run))
    with pytest.raises(FileNotFoundError, match='no checkpoint at .*missing.pth'):
        KAAutoEncoderConnector(in_channels=8, mode='encode',
                               checkpoint=str(tmp_path / 'missing.pth'))
