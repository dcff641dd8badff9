from . import functional  # noqa: F401 (the losses as functions)
from .affinity import AffinityLoss
from .autoencoder_reconstruction import AutoEncoderReconstructionLoss
from .category_similarity import CategorySimilarityLoss
from .inter_class_similarity import InterClassSimilarityLoss
from .knowledge_adaptation import KnowledgeAdaptationLoss
from .pairwise_similarity import PairwiseSimilarityLoss
from .pixel_feature_similarity import PixelFeatureSimilarityLoss
from .pixel_similarity import PixelSimilarityLoss
from .pixelwise_kd import PixelwiseKDLoss
from .weighted_soft_imitation import WeightedSoftImitationLoss

__all__ = [
    'AffinityLoss', 'AutoEncoderReconstructionLoss', 'CategorySimilarityLoss',
    'InterClassSimilarityLoss', 'KnowledgeAdaptationLoss', 'PairwiseSimilarityLoss',
    'PixelFeatureSimilarityLoss',
    'PixelSimilarityLoss', 'PixelwiseKDLoss', 'WeightedSoftImitationLoss'
]
