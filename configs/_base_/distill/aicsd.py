# AICSD's default recipe: the paper's method, ICSD + pixel KD under adaptive loss weighting
# (aicsd_paper.py). aicsd_official_icsd.py: the same with the official code's ICSD form;
# aicsd_official.py: what the official README command trains (no ICSD, no ALW).
_base_ = './aicsd_paper.py'
