"""Every method fragment trains what its name and comments say: built on the tiny pair, its
losses (type, formulation, weight), recorder mappings and hooks are checked against the
recipe each fragment's header states."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from tiny_pair import REPO, STUDENT_CFG, TEACHER_CFG, build_algorithm, fake_batch

import mmseg_distill  # noqa: F401
from benchmarks.tiny import write_ka_stage1_checkpoint

FRAGMENTS = osp.join(REPO, 'configs', '_base_', 'distill')

# fragment -> {loss name: (type, {attribute: value}, weight)}, hooks (types), PSD recorders
EXPECTED = {
    'pixel_kd.py': dict(losses={'loss_kd': ('PixelwiseKDLoss', dict(tau=1.0), 1.0)}),
    'dsd_cirkd.py': dict(
        losses={'loss_psd': ('PixelSimilarityLoss', dict(pairs='all'), 1000.0),
                'loss_csd': ('CategorySimilarityLoss',
                             dict(tau=4.0, pool_size=2, normalize_rows=False), 10.0)},
        psd=(['aux_logits', 'head_feat', 'logits'], ['aux_logits', 'head_feat', 'logits'])),
    'dsd_cirkd_head.py': dict(
        losses={'loss_psd': ('PixelSimilarityLoss', dict(pairs='all'), 1000.0),
                'loss_csd': ('CategorySimilarityLoss', dict(normalize_rows=False), 10.0)},
        psd=(['head_feat', 'logits'], ['head_feat', 'logits'])),
    'dsd_cirkd_student_no_aux.py': dict(
        losses={'loss_psd': ('PixelSimilarityLoss', dict(pairs='all'), 1000.0),
                'loss_csd': ('CategorySimilarityLoss', dict(normalize_rows=False), 10.0)},
        psd=(['logits', 'head_feat', 'logits'], ['aux_logits', 'head_feat', 'logits'])),
    'dsd_paper.py': dict(
        losses={'loss_psd': ('PixelSimilarityLoss', dict(pairs='adjacent'), None),
                'loss_csd': ('CategorySimilarityLoss', dict(normalize_rows=True), None)}),
    'ka_stage1.py': dict(
        losses={'loss_ae': ('AutoEncoderReconstructionLoss',
                            dict(alpha=1e-7, code_reduction='batch_sum'), 1.0)},
        student_trainable=False),
    'ka_stage2.py': dict(
        losses={'loss_ka': ('KnowledgeAdaptationLoss', dict(formulation='torchdistill', p=1),
                            50.0),
                'loss_affinity': ('AffinityLoss', dict(formulation='torchdistill'), 1.0)},
        affinity_adapter_layers=1),
    'ka_stage2_paper.py': dict(
        losses={'loss_ka': ('KnowledgeAdaptationLoss', dict(formulation='paper'), None),
                'loss_affinity': ('AffinityLoss', dict(formulation='paper'), None)},
        affinity_adapter_layers=3),
    'pfs.py': dict(
        losses={'loss_pfs': ('PixelFeatureSimilarityLoss', dict(mode='cosine_mse'), 10.0),
                'loss_wsi': ('WeightedSoftImitationLoss', dict(weighting='gap'), 1.0)}),
    'aicsd_paper.py': dict(
        losses={'loss_icsd': ('InterClassSimilarityLoss', dict(formulation='paper'), None),
                'loss_kd': ('PixelwiseKDLoss', dict(class_reduction='mean'), 10.0)},
        alw=dict(falling=['distiller.distill_losses.loss_kd'],
                 rising=['distiller.distill_losses.loss_icsd'], student_ce='all', floor=0.0)),
    'aicsd_official_icsd.py': dict(
        losses={'loss_icsd': ('InterClassSimilarityLoss', dict(formulation='official'), None),
                'loss_kd': ('PixelwiseKDLoss', dict(class_reduction='mean'), 10.0)},
        alw=dict(falling=['distiller.distill_losses.loss_kd'],
                 rising=['distiller.distill_losses.loss_icsd'], student_ce='all', floor=0.0)),
    'aicsd_official.py': dict(
        losses={'loss_pa': ('PairwiseSimilarityLoss', dict(pool_scale=0.5), 9500.0),
                'loss_kd': ('PixelwiseKDLoss', dict(class_reduction='mean', tau=1.0), 10.0)}),
    'cwd.py': dict(losses={'loss_cwd': ('ChannelWiseDivergence', dict(tau=1.0), 5.0)}),
    'dist.py': dict(losses={'loss_dist': ('DISTLoss', dict(inter_loss_weight=1.0,
                                                           intra_loss_weight=1.0, tau=1.0),
                                          1.0)}),
}
ALIASES = {'dsd.py': 'dsd_cirkd.py', 'aicsd.py': 'aicsd_paper.py'}
# what a fragment needs from a leaf on the tiny pair (channels, the ASPP-less student)
LEAF_SETTINGS = {
    'ka_stage1.py': "distiller=dict(connectors=dict(teacher_autoencoder=dict(in_channels=32)))",
    'ka_stage2.py': "distiller=dict(connectors=dict("
                    "teacher_autoencoder=dict(in_channels=32, checkpoint=STAGE1),"
                    "student_adapter=dict(in_channel=16, out_channel=16),"
                    "student_affinity_adapter=dict(in_channel=16, out_channel=16)))",
    'aicsd_official.py': "distiller=dict(student_recorders=dict("
                         "aspp=dict(source='decode_head.convs.0.bn')))",
}
LEAF_SETTINGS['ka_stage2_paper.py'] = LEAF_SETTINGS['ka_stage2.py']


def test_every_fragment_has_an_expectation():
    import glob
    shipped = {osp.basename(p) for p in glob.glob(osp.join(FRAGMENTS, '*.py'))}
    assert shipped == set(EXPECTED) | set(ALIASES) | {'dsd_stages.py', '_runtime.py',
                                                      '_algorithm.py'}
    # every composable fragment has its terms file, which defines the method's terms
    for fragment in set(EXPECTED) - {'ka_stage1.py'}:
        assert osp.exists(osp.join(FRAGMENTS, 'terms', fragment)), fragment


def fragment_on_tiny_pair(fragment, tmp_path):
    settings = LEAF_SETTINGS.get(fragment, '').replace(
        'STAGE1', repr(write_ka_stage1_checkpoint(str(tmp_path / 'stage1.pth'), 32)))
    leaf = tmp_path / f'leaf_{fragment}'
    leaf.write_text(
        f"_base_ = [{osp.join(FRAGMENTS, fragment)!r}]\n"
        f"model = dict(architecture=dict(type='ModelFromConfig', cfg_path={STUDENT_CFG!r}),\n"
        f"             teacher=dict(type='ModelFromConfig', cfg_path={TEACHER_CFG!r}),\n"
        f"             {settings})\n")
    return Config.fromfile(str(leaf))


@pytest.mark.parametrize('fragment', sorted(EXPECTED) + sorted(ALIASES))
def test_fragment_builds_and_trains_what_it_says(fragment, tmp_path):
    expected = EXPECTED[ALIASES.get(fragment, fragment)]
    cfg = fragment_on_tiny_pair(fragment, tmp_path)
    model = build_algorithm(cfg.model)
    losses = model.distiller.distill_losses
    assert set(losses) == set(expected['losses'])
    for name, (type_name, attributes, weight) in expected['losses'].items():
        assert type(losses[name]).__name__ == type_name, name
        for key, value in attributes.items():
            assert getattr(losses[name], key) == value, (name, key)
        if weight is not None:
            assert losses[name].loss_weight == weight, name
        else:  # a calibrated weight: finite, positive, and its source comment is tested
            assert 0 < losses[name].loss_weight < float('inf')
    hooks = [h['type'].split('.')[-1] for h in cfg.get('custom_hooks', [])]
    assert 'RNGStateHook' in hooks
    alw = [h for h in cfg.custom_hooks if h['type'].endswith('AdaptiveLossWeightHook')]
    if 'alw' in expected:
        assert len(alw) == 1
        for key, value in expected['alw'].items():
            assert alw[0][key] == value, key
    else:
        assert not alw, 'only the AICSD paper method schedules its losses'
    if 'psd' in expected:
        mapping = model.distiller.loss_forward_mappings['loss_psd']
        assert [r['recorder'] for r in mapping['feats_S']] == expected['psd'][0]
        assert [r['recorder'] for r in mapping['feats_T']] == expected['psd'][1]
    if 'student_trainable' in expected:
        assert model.student_trainable == expected['student_trainable']
    if 'affinity_adapter_layers' in expected:
        adapter = model.distiller.connectors['student_affinity_adapter']
        layers = [m for m in adapter.modules() if isinstance(
            m, (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.ReLU))]
        assert len(layers) == expected['affinity_adapter_layers']
    # and one training step gives a finite value for every term
    inputs, samples = fake_batch()
    model.train()
    values = model.loss(inputs, samples)
    for name in expected['losses']:
        assert torch.isfinite(values[f'distill.{name}']), name


def test_the_official_command_trains_no_icsd_and_no_alw():
    from mmseg_distill.models.distillers import flat_distiller
    text = open(osp.join(FRAGMENTS, 'terms', 'aicsd_official.py')).read()
    cfg = Config.fromfile(osp.join(FRAGMENTS, 'aicsd_official.py'))
    distiller = flat_distiller(cfg.model.distiller)
    assert 'loss_icsd' not in distiller['distill_losses']
    assert all('AdaptiveLossWeight' not in h['type'] for h in cfg.custom_hooks)
    assert '--pa_lambda 9500' in text and '--pi_lambda 10' in text
    # it records the ASPP projection before its ReLU in MMSeg's (DeepLabV3/V3+) heads
    assert distiller['teacher_recorders']['aspp']['source'] == 'decode_head.bottleneck.bn'


def test_aspp_recorder_source_is_the_bn_before_relu_in_mmseg_deeplabv3plus():
    """The module the VOC leaf records is the BN output of the ASPP projection (pre-ReLU)."""
    from mmseg_distill.models import ModelFromConfig
    model = ModelFromConfig(
        'mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512.py',
        random_init=True)
    bottleneck = model.decode_head.bottleneck
    assert isinstance(bottleneck.bn, torch.nn.modules.batchnorm._BatchNorm)
    assert [name for name, _ in bottleneck.named_children()] == ['conv', 'bn', 'activate']


def test_every_fragment_runs_with_the_one_runtime_block():
    """The DDP wrapper and the RNG hook live in _runtime.py alone; every fragment has them."""
    import glob
    for path in glob.glob(osp.join(FRAGMENTS, '*.py')):
        name = osp.basename(path)
        with open(path) as f:
            text = f.read()
        if name != '_runtime.py':
            assert 'model_wrapper_cfg' not in text and 'RNGStateHook' not in text, name
        cfg = Config.fromfile(path)
        assert cfg.model_wrapper_cfg.type == 'mmrazor.DeviceAgnosticDDP', name
        assert cfg.custom_hooks[0] == dict(type='mmrazor.RNGStateHook'), name


def _export_advice(method_dir):
    import re
    with open(osp.join(REPO, 'configs', method_dir, 'README.md')) as f:
        text = f.read()
    found = re.findall(r'```python\n(default_hooks = dict\(export_student=.*?)```', text, re.S)
    assert len(found) == 1, f'configs/{method_dir}/README.md: no export-hook advice'
    return found[0]


@pytest.mark.parametrize('fragment', sorted(
    f for f in os.listdir(FRAGMENTS) if f.endswith('.py') and not f.startswith('_')))
def test_the_readmes_export_advice_keeps_every_hook_of_the_fragment(tmp_path, fragment):
    """Following a method README's advice to export the student keeps the fragment's own hooks
    (AICSD's adaptive loss weighting was lost with the old advice, a `custom_hooks` list)."""
    from mmseg_distill.methods import all_forms
    directory = next((m.directory for m, f in all_forms() if f.fragment == fragment), 'dsd')
    leaf = tmp_path / 'leaf.py'
    leaf.write_text(f"_base_ = [{osp.join(FRAGMENTS, fragment)!r}]\n" + _export_advice(directory))
    plain = Config.fromfile(osp.join(FRAGMENTS, fragment))
    advised = Config.fromfile(str(leaf))
    assert advised.custom_hooks == plain.custom_hooks
    assert advised.default_hooks.export_student.type == 'mmrazor.ExportStudentHook'
