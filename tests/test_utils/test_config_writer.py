"""``mmseg_distill.utils.config_writer``: what it writes reads back as the values it was given,
with the comments where they were attached."""
import pytest
from mmengine.config import Config

from mmseg_distill.utils.config_writer import (WIDTH, BaseRef, assignment_text, merge_entries,
                                               value_text)

VALUE = dict(
    architecture=dict(type='ModelFromConfig', cfg_path='configs/' + 'x' * 90,
                      init_cfg=dict(type='Pretrained', checkpoint='init.pth')),
    teacher_ckpt=None,
    data_preprocessor=dict(size=(64, 64), mean=[1.5, 2.0, 3.0], pad_val=0),
    distiller=dict(
        distill_losses=dict(loss_kd=dict(loss_weight=2.5)),
        loss_forward_mappings=dict(loss_psd=dict(feats_S=[
            dict(recorder='stages', from_student=True, data_idx=i) for i in range(4)]))))


def test_what_it_writes_reads_back_as_the_same_values_in_lines_that_fit(tmp_path):
    comments = {('teacher_ckpt', ): ['the trained teacher'],
                ('distiller', 'distill_losses', 'loss_kd'): ['calibration: measured', 'twice']}
    text = assignment_text('model', VALUE, comments)
    path = tmp_path / 'leaf.py'
    path.write_text(text)
    assert Config.fromfile(str(path)).model.to_dict() == \
        Config(dict(model=VALUE)).model.to_dict()
    lines = text.splitlines()
    assert lines[lines.index('    teacher_ckpt=None,') - 1] == '    # the trained teacher'
    at = next(i for i, line in enumerate(lines) if 'loss_kd=' in line)
    assert lines[at - 2:at] == ['            # calibration: measured', '            # twice']
    # every line fits, but a string longer than the width itself
    assert all(len(line) <= WIDTH for line in lines if 'x' * 90 not in line)


def test_a_base_variable_is_written_unquoted_and_a_bad_key_is_refused():
    assert value_text(dict(compose=dict(dsd=BaseRef('dsd_terms')))) == \
        'dict(compose=dict(dsd=_base_.dsd_terms))'
    with pytest.raises(ValueError, match='identifiers'):
        value_text({'not a name': 1})


def test_entries_merge_key_by_key_and_a_clash_names_its_key():
    first = dict(connectors=dict(a=dict(in_channels=8)), recorders=dict(x=1))
    second = dict(connectors=dict(b=dict(in_channels=4)), recorders=dict(x=1))
    assert merge_entries(first, second) == dict(
        connectors=dict(a=dict(in_channels=8), b=dict(in_channels=4)), recorders=dict(x=1))
    with pytest.raises(ValueError, match=r'^connectors\.a\.in_channels$'):
        merge_entries(first, dict(connectors=dict(a=dict(in_channels=9))))
