"""The benchmark's measurements (``tools/benchmark.py`` is their command line): robust timing
(``timing``), each loss against its naive form (``losses``), a distillation step of any leaf
config (``steps``) and the tables (``report``)."""
