"""Everything the project knows about MMSeg's decode-head families, in one place.

The recorders (which head makes the dense prediction, how its output becomes (N, K, H, W)
logits, which module is its classifier), model loading (how a config's heads change their class
count, which families need MMDetection), the teacher fast path (which heads compute their
training output in ``forward``) and the pair tool (how to run a model for its dense map) ask
this module; adding a head family means adding it here.

=====================================  ==========================================================
family                                 logits / classifier feature
=====================================  ==========================================================
``BaseDecodeHead`` heads (FCN, PSP,    ``forward`` output / input of ``conv_seg``
ASPP, UPer, SegFormer, FastSCNN, ...)
several outputs (DANet, EncNet, DDR,   the output MMSeg predicts with (PIDNet: its I branch) /
PIDNet)                                input of the ``conv_seg`` call that produced it
cascades (OCRNet)                      the last stage
PointRend                              the coarse head (the point head predicts on sampled
                                       points in training; its dense map exists only at test)
Segmenter (mask transformer)           class masks / the patch embeddings the class embeddings
                                       are compared with (output of ``patch_proj``)
K-Net                                  last kernel-update stage / not available
MaskFormer, Mask2Former (need mmdet)   softmax(class) x sigmoid(mask) summed over queries, as
                                       MMSeg's ``predict`` / not available
binary heads (``out_channels=1``)      logits z become two classes (0, z): softmax of them is
                                       (1 - sigmoid(z), sigmoid(z)), so every logit loss works
=====================================  ==========================================================

Auxiliary heads with classes of their own: STDC's detail head (``STDCHead``, boundary or not,
2 classes) predicts no class of the data set. It keeps its class count when a pair is built for
another data set (``set_num_classes``), and it is no "auxiliary logits" of the data set's classes
to distil (``own_class_heads``). Besides the types listed in ``OWN_CLASS_HEADS``, an auxiliary
head whose configured class count differs from the decode head's is taken as such a head.
"""
import warnings
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import torch
from torch import nn

# index of the predicted map in a head's tuple output (default 0)
MAIN_OUTPUT = {'PIDHead': 1}
MASK_CLASSIFICATION = ('MaskFormerHead', 'Mask2FormerHead')  # built on MMDetection
KERNEL_HEADS = ('IterativeDecodeHead', )  # K-Net: class kernels, no per-pixel classifier
NO_CLASSIFIER_FEATURE = MASK_CLASSIFICATION + KERNEL_HEADS
HEAD_KEYS = ('decode_head', 'auxiliary_head')
# auxiliary heads whose classes are their own, not the data set's (STDC's boundary/detail head)
OWN_CLASS_HEADS = ('STDCHead', )


@dataclass(frozen=True)
class HeadFamily:
    """The head whose output is a segmentor's dense prediction, and a name for messages."""
    head: nn.Module
    name: str

    @property
    def type_name(self) -> str:
        return type(self.head).__name__

    @property
    def has_classifier_feature(self) -> bool:
        return self.type_name not in NO_CLASSIFIER_FEATURE


def heads_of(module: Optional[nn.Module]):
    """The heads of a ``decode_head`` / ``auxiliary_head`` attribute as a list."""
    if module is None:
        return []
    return list(module) if isinstance(module, nn.ModuleList) else [module]


def is_point_rend(model: nn.Module) -> bool:
    heads = getattr(model, 'decode_head', None)
    return isinstance(heads, nn.ModuleList) and type(heads[-1]).__name__ == 'PointHead'


def head_family(model: nn.Module) -> HeadFamily:
    heads = getattr(model, 'decode_head', None)
    if heads is None:
        raise ValueError(f'{type(model).__name__} has no decode_head: the segmentation '
                         'recorders serve MMSeg EncoderDecoder / CascadeEncoderDecoder models')
    if is_point_rend(model):
        return HeadFamily(heads[0], 'PointRend (coarse head)')
    if isinstance(heads, nn.ModuleList):
        return HeadFamily(heads[-1], f'cascade ({type(heads[-1]).__name__}, last stage)')
    return HeadFamily(heads, type(heads).__name__)


def _last(heads):
    return heads[-1] if isinstance(heads, (list, tuple, nn.ModuleList)) else heads


def has_own_classes(head_type: str, head_classes, data_classes) -> bool:
    """Whether an auxiliary head predicts classes of its own (module docstring)."""
    return head_type in OWN_CLASS_HEADS or (
        head_classes is not None and data_classes is not None and head_classes != data_classes)


def own_class_heads(model: nn.Module) -> dict:
    """{module name of an auxiliary head with classes of its own: (type, class count)}."""
    data_classes = getattr(_last(getattr(model, 'decode_head', None)), 'num_classes', None)
    aux = getattr(model, 'auxiliary_head', None)
    found = {}
    for index, head in enumerate(heads_of(aux)):
        name = f'auxiliary_head.{index}' if isinstance(aux, nn.ModuleList) else 'auxiliary_head'
        classes = getattr(head, 'num_classes', None)
        if has_own_classes(type(head).__name__, classes, data_classes):
            found[name] = (type(head).__name__, classes)
    return found


def dense_logits(head: nn.Module, output: Any) -> torch.Tensor:
    """What ``head.forward`` returned -> (N, K, H, W) logits, as MMSeg predicts from it."""
    name = type(head).__name__
    if name in MASK_CLASSIFICATION:
        cls_scores, mask_preds = output
        cls_score = cls_scores[-1].softmax(-1)[..., :-1]  # last decoder layer, no 'void'
        return torch.einsum('bqc,bqhw->bchw', cls_score, mask_preds[-1].sigmoid())
    if isinstance(output, (list, tuple)):
        output = output[-1] if name in KERNEL_HEADS else output[MAIN_OUTPUT.get(name, 0)]
    if not isinstance(output, torch.Tensor) or output.dim() != 4:
        raise ValueError(f'{name}.forward returned {type(output).__name__}, not (N, K, H, W) '
                         'logits; record a module by name (tools/inspect_pair.py lists them)')
    if getattr(head, 'out_channels', None) == 1 and output.shape[1] == 1:
        output = torch.cat([torch.zeros_like(output), output], dim=1)
    return output


def main_output(head: nn.Module, output: Any) -> Any:
    """The element of a head's (tuple) output that MMSeg predicts with."""
    if isinstance(output, (list, tuple)):
        return output[MAIN_OUTPUT.get(type(head).__name__, 0)]
    return output


def classifier_module(family: HeadFamily) -> Optional[nn.Module]:
    """The module whose input is the per-pixel classifier feature (None where there is none)."""
    if not family.has_classifier_feature:
        return None
    classifier = getattr(family.head, 'conv_seg', None)
    if classifier is None and hasattr(family.head, 'patch_proj'):
        classifier = family.head.patch_proj  # Segmenter: patches meet class embeddings here
    return classifier


def trains_with_forward(head: nn.Module) -> bool:
    """True where the head's training output is its ``forward`` output (``BaseDecodeHead.loss``
    is forward + loss_by_feat); False for heads that compute it in ``loss`` (PointRend's point
    head samples points, mask-classification heads match queries)."""
    from mmseg.models.decode_heads.cascade_decode_head import BaseCascadeDecodeHead
    from mmseg.models.decode_heads.decode_head import BaseDecodeHead
    return type(head).loss in (BaseDecodeHead.loss, BaseCascadeDecodeHead.loss)


# ------------------------------------------------------------------------------ configs
def head_configs(model_cfg) -> Iterator[dict]:
    """The decode and auxiliary head configs of a model config."""
    for key in HEAD_KEYS:
        heads = model_cfg.get(key)
        for head in (heads if isinstance(heads, (list, tuple)) else [heads]):
            if head:
                yield head


def needs_mmdet(model_cfg) -> Optional[str]:
    """The first head type of the config that is built on MMDetection, if any."""
    return next((h.get('type') for h in head_configs(model_cfg)
                 if h.get('type') in MASK_CLASSIFICATION), None)


def set_num_classes(model_cfg, num_classes: int) -> None:
    """Every decode and auxiliary head predicts ``num_classes`` (binary heads keep 1 channel;
    auxiliary heads with classes of their own keep theirs, module docstring)."""
    decode = model_cfg.get('decode_head')
    data_classes = (_last(decode) or {}).get('num_classes') if decode else None
    auxiliary = model_cfg.get('auxiliary_head')
    own = [id(head) for head in (auxiliary if isinstance(auxiliary, (list, tuple))
                                 else [auxiliary])
           if isinstance(head, dict) and has_own_classes(head.get('type'),
                                                         head.get('num_classes'), data_classes)]
    for head in head_configs(model_cfg):
        if id(head) in own:
            continue
        if head.get('type') in KERNEL_HEADS:  # K-Net: its sub-heads hold the classes
            nested = head.get('kernel_update_head') or []
            for sub in [head.get('kernel_generate_head')] + list(nested):
                if isinstance(sub, dict) and 'num_classes' in sub:
                    sub['num_classes'] = num_classes
            continue
        head['num_classes'] = num_classes
        if head.get('out_channels', num_classes) != 1:
            head.pop('out_channels', None)
        losses = head.get('loss_decode')
        for loss in (losses if isinstance(losses, (list, tuple)) else [losses]):
            weights = loss.get('class_weight') if isinstance(loss, dict) else None
            if isinstance(weights, (list, tuple)) and len(weights) != num_classes:
                # per-class weights of the config's own dataset (DDRNet, PIDNet: Cityscapes)
                # do not describe the new classes
                warnings.warn(f"num_classes={num_classes}: dropped the {len(weights)} class "
                              f"weights of {loss.get('type')}; set class_weight for your "
                              'classes if you want them')
                loss.pop('class_weight')
