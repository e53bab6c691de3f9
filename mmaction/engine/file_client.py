"""mmengine 0.10 without its deprecated ``FileClient``.

``CheckpointHook.before_train`` and ``mmengine.runner.checkpoint.save_checkpoint`` build a
``FileClient`` even when no ``file_client_args`` are given, and then write through the file
backend of ``backend_args`` (``get_file_backend``) instead. The unused client costs two
deprecation warnings per run and per checkpoint ("FileClient will be deprecated", "HardDiskBackend
is the alias of LocalBackend"). :func:`without_file_client` keeps it from being built there.
"""
import contextlib
from types import ModuleType


class _NoFileClient:
    """Stands in for ``FileClient`` in a module whose ``FileClient.infer_client`` result is
    not used (no ``file_client_args``)."""

    @staticmethod
    def infer_client(file_client_args=None, uri=None):
        if file_client_args is not None:
            raise RuntimeError('without_file_client: file_client_args were given, so mmengine '
                               'would use the FileClient; call it without this context.')
        return None


@contextlib.contextmanager
def without_file_client(module: ModuleType, file_client_args=None):
    """Within the block, ``module.FileClient`` builds nothing, unless ``file_client_args``
    are given (then mmengine uses the client, and it is left alone)."""
    if file_client_args is not None:
        yield
        return
    saved, module.FileClient = module.FileClient, _NoFileClient
    try:
        yield
    finally:
        module.FileClient = saved
