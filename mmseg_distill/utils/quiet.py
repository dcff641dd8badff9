"""The notes the OpenMMLab stack prints every time the project builds a model or wraps one,
which say nothing a user can act on; ``MMSEG_DISTILL_VERBOSE=1`` shows them again
(docs/troubleshooting.md)."""
import os
import re
import warnings
from contextlib import contextmanager

# MMSeg 1.2.2 heads build their losses and pixel samplers (OHEM: STDC, BiSeNet, ... configs)
# through its own deprecated helpers and warn about a default: once per model built, and the
# project's tools build several (teacher, student, leaves measured and checked)
MMSEG_BUILD_NOTES = ('``build_loss`` would be deprecated soon',
                     '``build_pixel_sampler`` would be deprecated soon',
                     'Default ``avg_non_ignore`` is False')
# torch >= 2.12 deprecates ``broadcast_buffers``; the fragments keep ``broadcast_buffers=False``
# deliberately (its replacement still syncs buffers at init, as the warning itself says)
DDP_BROADCAST_NOTE = '`broadcast_buffers` is deprecated'


def verbose() -> bool:
    return bool(os.environ.get('MMSEG_DISTILL_VERBOSE'))


@contextmanager
def quiet(*messages: str):
    """Within the block, the warnings that start with one of ``messages`` are not shown
    (unless ``MMSEG_DISTILL_VERBOSE`` is set)."""
    with warnings.catch_warnings():
        if not verbose():
            for message in messages:
                warnings.filterwarnings('ignore', message=re.escape(message))
        yield
