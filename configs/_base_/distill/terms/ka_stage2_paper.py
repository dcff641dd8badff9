# KA stage 2 in the per-position formulation of the paper note (docs/methods.md; the paper's
# full text was not checked): knowledge translation = mean over positions of the L1 distance of
# per-position L2-normalised features; affinity = cos / P between all positions, mean L2
# distance between rows. Both adapters 3x3 conv + BN + ReLU (C_f, C_a). No weight was ever
# published for this form; the torchdistill form (ka_stage2.py) has published weights.
_base_ = './ka_stage2.py'
ka_terms = dict(
    connectors=dict(
        student_affinity_adapter=dict(norm_cfg=dict(_delete_=True, type='BN'),
                                      act_cfg=dict(_delete_=True, type='ReLU'))),
    distill_losses=dict(
        # calibration: docs/calibration/ka-paper_tiny.json (rule, figures, command)
        loss_ka=dict(formulation='paper', loss_weight=0.38),
        # calibration: docs/calibration/ka-paper_tiny.json (rule, figures, command)
        loss_affinity=dict(formulation='paper', loss_weight=9.6)))
