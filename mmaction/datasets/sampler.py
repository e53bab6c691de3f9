"""The training sampler: mmengine's ``DefaultSampler`` order, a seed per sample, and a start
part-way into an epoch.

Random augmentations draw from numpy's global generator. In a data-loader worker that
generator's state depends on which samples the worker loaded before, so the same sample is
augmented differently with another ``workers_per_gpu``, and a run resumed in the middle of an
epoch could not repeat the uninterrupted one. Here every index comes with its own seed,
derived from ``(sampler seed, epoch, position in the epoch)``, and the dataset reseeds before
running the pipeline (:meth:`mmaction.datasets.BaseActionDataset.__getitem__`).
"""
from typing import Iterator

from mmengine.dataset import DefaultSampler

from mmaction.registry import DATA_SAMPLERS
from mmaction.utils.randomness import derive_seed


class SeededIndex(int):
    """A dataset index that carries the seed of the sample's random augmentations. It is an
    ``int``, so dataset wrappers (``RepeatDataset`` ...) can compute with it; what they pass
    on is a plain index, whose augmentations then come from the worker's random state."""

    def __new__(cls, index: int, seed: int):
        obj = super().__new__(cls, index)
        obj.seed = int(seed)
        return obj

    @property
    def index(self) -> int:
        return int(self)

    def __reduce__(self):  # to data-loader workers and back
        return SeededIndex, (int(self), self.seed)

    def __repr__(self) -> str:
        return f'SeededIndex({int(self)}, seed={self.seed})'


@DATA_SAMPLERS.register_module()
class SeededSampler(DefaultSampler):
    """``DefaultSampler`` (same arguments; each rank gets the indices, in the order, that
    ``DefaultSampler`` gives it) that yields :class:`SeededIndex` values (an index with its
    seed) and can skip the first samples of one epoch.

    The seed of the sample at position ``p`` of the epoch's (padded) order is
    ``derive_seed(seed, epoch, p)``: independent of the rank that loads it, of the worker and of
    the number of workers.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._skip = 0

    def skip(self, num_samples: int) -> None:
        """Start the next iterator after ``num_samples`` of this rank's samples (resuming)."""
        if not 0 <= num_samples <= self.num_samples:
            raise ValueError(f'cannot skip {num_samples} of the {self.num_samples} samples of '
                             'an epoch on this rank')
        self._skip = num_samples

    def __iter__(self) -> Iterator[SeededIndex]:
        indices = list(super().__iter__())  # this rank's: positions rank, rank + world, ...
        start, self._skip = self._skip, 0
        for i in range(start, len(indices)):
            position = self.rank + i * self.world_size
            yield SeededIndex(int(indices[i]), derive_seed(self.seed, self.epoch, position))
