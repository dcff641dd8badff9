# AICSD's method (aicsd_paper.py: ICSD + pixel KD under adaptive loss weighting) with ICSD in the
# form the official code (AmirMansurian/AICSD, distiller.py `lo_loss`, switched on by
# --lo_lambda) computes it: softmax over the height axis only, KLDivLoss('batchmean') fed
# probabilities, one symmetric K x K matrix per batch, rows L2-normalised, mean squared
# difference / b. This is NOT what the official README command trains (that is
# aicsd_official.py): that command never sets --lo_lambda.
_base_ = './aicsd_paper.py'
aicsd_terms = dict(
    distill_losses=dict(
        # calibration: docs/calibration/aicsd-official-icsd_tiny.json (rule, figures, command)
        loss_icsd=dict(formulation='official', loss_weight=3100.0)))
