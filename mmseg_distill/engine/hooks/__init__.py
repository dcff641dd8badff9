from .loss_weight_scheduler_hook import AdaptiveLossWeightHook, alw_factors

__all__ = ['AdaptiveLossWeightHook', 'alw_factors']
