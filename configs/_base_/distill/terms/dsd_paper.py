# DSD (Feng et al., TIP 2021) in the form of the paper's description (as this project reads it;
# the full text could not be checked): PSD over ADJACENT layer pairs, CSD with rows
# L2-normalised. Same recorders as dsd_cirkd.py. Nobody published weights for this form, and
# normalised CSD is orders of magnitude larger than CIRKD's, so CIRKD's 1000 / 10 do not carry
# over: the weights below are this project's calibration (see each comment).
_base_ = './dsd_cirkd.py'
dsd_terms = dict(
    distill_losses=dict(
        # calibration: docs/calibration/dsd-paper_tiny.json (rule, figures, command)
        loss_psd=dict(pairs='adjacent', loss_weight=998.0),
        # calibration: docs/calibration/dsd-paper_tiny.json (7 classes, 4x4 logits only)
        loss_csd=dict(normalize_rows=True, loss_weight=0.04)))
