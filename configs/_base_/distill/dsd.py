# DSD's default recipe: CIRKD's form and weights, the form whose numbers are published
# (dsd_cirkd.py). The paper-note form is dsd_paper.py.
_base_ = './dsd_cirkd.py'
