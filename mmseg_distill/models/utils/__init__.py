from .align import (align_spatial, check_feature_maps, check_same_classes, max_pool_by_scale,
                    resize_like, valid_mask_from_gt)
from .precision import (TEACHER_PRECISIONS, device_type_of, float32_compute, teacher_autocast,
                        to_float32)
from .reduction import image_weights, masked_mean, weighted_image_mean
from .similarity import (channel_outer_product_distance, cosine_affinity_row_distance,
                         cosine_affinity_sq_error, gram_dtype, l2_normalize,
                         position_cosine_matrix_detached_norm, positions_as_rows, safe_sqrt)
from .similarity_dispatch import (ALGORITHMS, affinity_row_distance, affinity_sq_error,
                                  check_algorithm, pairwise_algorithm)
from .softmax import chunked_row_softmax_kl, masked_spatial_log_softmax, pixel_kl_divergence
from .validation import check_choice, check_loss_weight

__all__ = [
    'align_spatial', 'resize_like', 'check_same_classes', 'check_feature_maps',
    'max_pool_by_scale', 'valid_mask_from_gt', 'float32_compute', 'to_float32',
    'TEACHER_PRECISIONS', 'teacher_autocast', 'device_type_of', 'masked_mean', 'image_weights',
    'weighted_image_mean', 'l2_normalize', 'positions_as_rows', 'safe_sqrt',
    'channel_outer_product_distance', 'position_cosine_matrix_detached_norm',
    'cosine_affinity_sq_error', 'gram_dtype', 'cosine_affinity_row_distance',
    'chunked_row_softmax_kl', 'masked_spatial_log_softmax', 'pixel_kl_divergence', 'ALGORITHMS',
    'affinity_row_distance', 'affinity_sq_error', 'check_algorithm', 'pairwise_algorithm',
    'check_choice', 'check_loss_weight'
]
