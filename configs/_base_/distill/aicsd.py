# Kept for configs written against earlier versions: AICSD in the paper's form (aicsd_paper.py).
# The official code's ICSD formulation is aicsd_official.py.
_base_ = './aicsd_paper.py'
