"""What autograd keeps for the backward pass, counted exactly.

Every tensor an operation saves for its backward goes through
``torch.autograd.graph.saved_tensors_hooks``; the memory it holds is its storage. Counting
each storage once (q, k and v are views of one buffer; a tensor saved by two operations is
one tensor) and leaving out the storages of the model's parameters and buffers gives the
activation memory of a step: what stays allocated from the forward pass until its backward.
The count works on fake tensors too (``torch._subclasses.FakeTensorMode``), so a model can be
measured without memory or compute (``tools/analysis/memory_plan.py``).
"""
import contextlib
from typing import Dict, Iterable

import torch


def _storage_key(t: torch.Tensor) -> int:
    return t.untyped_storage()._cdata


class SavedTensors(contextlib.AbstractContextManager):
    """Within the context, records every storage autograd saves (once each).

    Args:
        exclude: tensors whose storages are not activations (parameters, buffers).

    After the context: ``bytes`` in all, ``by_dtype`` ({dtype name: bytes}), ``count``.
    Keep the graph (the outputs) alive until read: a freed storage's address can be reused.
    """

    def __init__(self, exclude: Iterable[torch.Tensor] = ()):
        self._exclude = {_storage_key(t) for t in exclude}
        self._seen: Dict[int, tuple] = {}
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, lambda t: t)

    def _pack(self, t: torch.Tensor) -> torch.Tensor:
        key = _storage_key(t)
        if key not in self._exclude and key not in self._seen:
            self._seen[key] = (t.untyped_storage().nbytes(), str(t.dtype).split('.')[-1])
        return t

    def __enter__(self):
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc):
        return self._hooks.__exit__(*exc)

    @property
    def bytes(self) -> int:
        return sum(n for n, _ in self._seen.values())

    @property
    def count(self) -> int:
        return len(self._seen)

    @property
    def by_dtype(self) -> Dict[str, int]:
        out: Dict[str, int] = {}
        for n, dtype in self._seen.values():
            out[dtype] = out.get(dtype, 0) + n
        return out


def model_tensors(model: torch.nn.Module):
    """The parameters and buffers of ``model`` (what :class:`SavedTensors` leaves out)."""
    return list(model.parameters()) + list(model.buffers())


def to_fake(model: torch.nn.Module, mode) -> torch.nn.Module:
    """``model`` with its parameters and buffers replaced, in place, by fake tensors of
    ``mode`` (a ``FakeTensorMode``) of the same shapes, dtypes and ``requires_grad``: a forward
    pass then computes nothing and allocates nothing, while autograd saves what it would."""
    for module in model.modules():
        for name, param in list(module._parameters.items()):
            if param is not None:
                module._parameters[name] = torch.nn.Parameter(
                    mode.from_tensor(param.detach()), requires_grad=param.requires_grad)
        for name, buf in list(module._buffers.items()):
            if buf is not None:
                module._buffers[name] = mode.from_tensor(buf)
    return model
