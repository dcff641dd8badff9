"""What a distillation run transferred: for a teacher and any number of students (a baseline
and distilled ones), the distance between each student and the teacher in every relation the
methods distil, measured on the same images.

Relations (each needs nothing a baseline student lacks: no adapters, channel counts free):

==================  ==========================================  ==============================
relation            distance                                    method that distils it
==================  ==========================================  ==============================
``logit_kl``        pixel KL(p_T || p_S), summed over classes   pixel KD, PFS (WSI), AICSD
``agreement``       share of pixels where argmax S = argmax T   (all; higher is closer)
``psd``             PSD over [aux logits, feature, logits],     DSD
                    every pair (CIRKD's form)
``csd``             CSD, CIRKD's form (rows not normalised)     DSD
``pfs``             mean squared difference of the P x P        PFS
                    cosine similarities of the head features
``ka_affinity``     KA's affinity (paper form: rows of cos/P)   KA
                    of the student feature against the
                    teacher's encoded feature
``ka_cka``          1 - linear CKA between the student feature  KA (knowledge translation: the
                    and the teacher's encoded feature           code is recoverable from S)
``icsd``            ICSD, paper form (per-image KL matrices)    AICSD (paper)
``icsd_official``   ICSD as the official code computes it       AICSD (official ICSD)
                    (height softmax, one matrix per batch)
``pairwise``        SKD's pair-wise similarity of the pre-ReLU  AICSD (official command)
                    maps before the classifier (pooled 2x2)
``cwd``             MMRazor's ChannelWiseDivergence, tau 1      CWD (MMRazor)
``dist``            MMRazor's DISTLoss, pixels as samples       DIST (MMRazor)
==================  ==========================================  ==============================

Which relations each method form distils is its registry entry's ``relations``
(``mmseg_distill.methods``). ``ka_*`` need the KA stage-1 encoder; ``pairwise`` needs the
modules to read (their BN outputs before the ReLU); ``psd`` needs an auxiliary head on both
models (of several, the one whose output size is closest to the logits', as the pair tool's DSD
leaf records); ``left_out`` names every relation that is not measured and why.
"""
from .relations import (RELATIONS, Relations, aux_logit_sources, left_out, linear_cka_distance,
                        measure_students)

__all__ = ['RELATIONS', 'Relations', 'aux_logit_sources', 'left_out', 'linear_cka_distance',
           'measure_students']
