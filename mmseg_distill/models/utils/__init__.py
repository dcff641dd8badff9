from .align import align_spatial, check_same_classes, resize_like, valid_mask_from_gt
from .precision import TEACHER_PRECISIONS, float32_compute, teacher_autocast, to_float32
from .reduction import image_weights, masked_mean, weighted_image_mean
from .similarity import (cosine_affinity_row_distance, cosine_affinity_sq_error, gram_dtype,
                         l2_normalize, positions_as_rows)
from .tiled_similarity import (ALGORITHMS, affinity_row_distance, affinity_sq_error,
                               check_algorithm, pairwise_algorithm)
from .softmax import (chunked_row_softmax_kl, masked_spatial_log_softmax,
                      pixel_kl_divergence)

__all__ = [
    'align_spatial', 'resize_like', 'check_same_classes', 'valid_mask_from_gt',
    'float32_compute', 'to_float32', 'TEACHER_PRECISIONS', 'teacher_autocast', 'masked_mean',
    'image_weights', 'weighted_image_mean', 'l2_normalize', 'positions_as_rows',
    'cosine_affinity_sq_error', 'gram_dtype', 'cosine_affinity_row_distance', 'chunked_row_softmax_kl',
    'masked_spatial_log_softmax', 'pixel_kl_divergence', 'ALGORITHMS', 'affinity_row_distance',
    'affinity_sq_error', 'check_algorithm', 'pairwise_algorithm'
]
