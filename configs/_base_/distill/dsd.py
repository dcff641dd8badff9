# Kept for configs written against earlier versions: DSD in CIRKD's form and weights, the form
# whose numbers are published (see dsd_cirkd.py). The paper-note form is dsd_paper.py.
_base_ = './dsd_cirkd.py'
