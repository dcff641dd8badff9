"""Every distillation loss as a function of the records (unweighted), in the manner of
``torch.nn.functional``: the loss modules call these, and so does ``mmseg_distill.evidence``
to measure how far a student is from its teacher in each relation. Each takes the options of
its module as keyword arguments, with the same defaults."""
from .affinity import affinity
from .category_similarity import category_similarity, class_similarity_matrix
from .inter_class_similarity import (inter_class_kl_matrix, inter_class_similarity,
                                     inter_class_similarity_matrix, official_inter_class_matrix)
from .knowledge_adaptation import knowledge_adaptation
from .pairwise_similarity import pairwise_similarity
from .pixel_feature_similarity import pixel_feature_similarity
from .pixel_similarity import (attention_map, attention_residuals, attention_target_size,
                               pixel_similarity)
from .pixelwise_kd import pixel_kd
from .weighted_soft_imitation import weighted_soft_imitation

__all__ = ['affinity', 'category_similarity', 'class_similarity_matrix', 'inter_class_kl_matrix',
           'inter_class_similarity', 'inter_class_similarity_matrix',
           'official_inter_class_matrix', 'knowledge_adaptation', 'pairwise_similarity',
           'pixel_feature_similarity', 'attention_map', 'attention_residuals',
           'attention_target_size', 'pixel_similarity', 'pixel_kd', 'weighted_soft_imitation']
