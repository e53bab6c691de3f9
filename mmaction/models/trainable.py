"""Which parameters are trained: AIM's rule, or any list of name patterns."""
import re
from typing import Sequence, Tuple, Union

from mmengine.logging import MMLogger
from torch import nn

#: AIM's recipe: only adapters, the temporal embedding, the final norm and the head learn.
AIM_TRAINABLE = ('Adapter', 'temporal_embedding', 'ln_post', 'cls_head')


def apply_trainable_policy(model: nn.Module,
                           patterns: Union[str, Sequence[str]] = AIM_TRAINABLE,
                           log: bool = True) -> Tuple[int, int]:
    """Set ``requires_grad`` from parameter names and log the counts.

    Args:
        patterns: ``'all'`` trains everything; otherwise a parameter is trained when any
            pattern is found in its name (``re.search``; a plain name matches as a
            substring, as in AIM's rule).

    Returns:
        (total, trainable) parameter counts.
    """
    if isinstance(patterns, str) and patterns != 'all':
        patterns = [patterns]
    compiled = None if patterns == 'all' else [re.compile(p) for p in patterns]
    per_pattern = {}
    total = trainable = 0
    for name, param in model.named_parameters():
        if compiled is None:
            hit = True
        else:
            matches = [c.pattern for c in compiled if c.search(name)]
            hit = bool(matches)
            for m in matches[:1]:
                per_pattern[m] = per_pattern.get(m, 0) + param.numel()
        param.requires_grad_(hit)
        total += param.numel()
        trainable += param.numel() if hit else 0
    if log:
        if compiled is None:
            detail = 'all parameters'
        else:
            unmatched = [c.pattern for c in compiled if c.pattern not in per_pattern]
            detail = ', '.join(f'{k}: {v / 1e6:.3f}M' for k, v in per_pattern.items())
            if unmatched:
                detail += f'; patterns matching nothing: {unmatched}'
        MMLogger.get_current_instance().info(
            f'Tunable parameters: {trainable / 1e6:.2f}M of {total / 1e6:.2f}M '
            f'({100 * trainable / max(total, 1):.1f}%) [{detail}]')
    return total, trainable
