"""Process setup shared by ``tools/train.py`` and ``tools/test.py``."""
import argparse
import logging
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import Config
from mmengine.logging import MMLogger

# run_tool lives in the lowest layer so that light tools need not import the engine; the
# tools that import it from here keep working
from mmaction.utils.cli import DEBUG_VARIABLE, add_debug_argument, run_tool, user_errors  # noqa: F401
from .process_group import start as start_process_group

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def add_launcher_arguments(parser) -> None:
    """``--launcher`` and the ``--local_rank``/``--local-rank`` that
    ``python -m torch.distributed.launch`` passes to every process."""
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none',
                        help='job launcher: none (one process), pytorch (torchrun / '
                             'tools/dist_*.sh), slurm (tools/slurm_*.sh) or mpi')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help=argparse.SUPPRESS)


#: where MPI launchers put (rank, world size, rank within the node, processes on the node)
MPI_VARIABLES = (
    ('Open MPI', 'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_LOCAL_RANK',
     'OMPI_COMM_WORLD_LOCAL_SIZE'),
    ('MVAPICH2', 'MV2_COMM_WORLD_RANK', 'MV2_COMM_WORLD_SIZE', 'MV2_COMM_WORLD_LOCAL_RANK',
     'MV2_COMM_WORLD_LOCAL_SIZE'),
    ('MPICH / Intel MPI', 'PMI_RANK', 'PMI_SIZE', 'MPI_LOCALRANKID', 'MPI_LOCALNRANKS'),
)


def mpi_environment(environ=None) -> dict:
    """``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` (and ``MASTER_ADDR``/``MASTER_PORT`` defaults)
    of a process started by ``mpirun``/``mpiexec``, read from the MPI launcher's variables.

    ``LOCAL_RANK`` picks the GPU: without it every process of a node would use GPU 0.
    """
    environ = os.environ if environ is None else environ
    for name, rank, size, local_rank, local_size in MPI_VARIABLES:
        if rank not in environ:
            continue
        missing = [v for v in (size, local_rank) if v not in environ]
        if missing:
            raise RuntimeError(f'--launcher mpi: {name} set {rank} but not {missing}; this '
                               'launcher does not say which GPU of the node a process uses.')
        found = dict(RANK=environ[rank], WORLD_SIZE=environ[size],
                     LOCAL_RANK=environ[local_rank], MASTER_PORT=environ.get('MASTER_PORT',
                                                                              '29500'))
        if 'MASTER_ADDR' in environ:
            found['MASTER_ADDR'] = environ['MASTER_ADDR']
        elif environ.get(local_size) == environ[size]:  # every process on this node
            found['MASTER_ADDR'] = '127.0.0.1'
        else:
            raise RuntimeError(
                '--launcher mpi over several machines needs MASTER_ADDR, the address of the '
                'machine of rank 0: mpirun -x MASTER_ADDR=<host> [-x MASTER_PORT=<port>] ...')
        return found
    names = ', '.join(f'{rank} ({name})' for name, rank, *_ in MPI_VARIABLES)
    raise RuntimeError(f'--launcher mpi: no MPI rank in the environment (looked for {names}). '
                       'Start the tool with mpirun/mpiexec, or use --launcher pytorch '
                       '(tools/dist_train.sh).')


def export_local_rank(local_rank: int, launcher: str = 'none') -> None:
    """Put the process's rank variables where mmengine and torch read them.

    ``torch.distributed.launch`` passes ``--local-rank``; mmengine reads ``LOCAL_RANK``. Under
    MPI, the rank variables come from the MPI launcher (:func:`mpi_environment`).
    """
    if launcher == 'mpi':
        os.environ.update(mpi_environment())
        return
    os.environ.setdefault('LOCAL_RANK', str(local_rank))


def default_work_dir(config_path: str) -> str:
    """``./work_dirs/<config name>``, as AIM's tools chose when no work_dir is given."""
    return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def init_distributed(launcher: str, cfg: Config) -> None:
    """Start the process group of ``cfg`` (its ``dist_params`` or ``env_cfg.dist_cfg``)
    before anything logs, so that only rank 0 prints (:func:`.process_group.start`)."""
    start_process_group(
        launcher, cfg.get('dist_params') or cfg.get('env_cfg', {}).get('dist_cfg') or {})


class EarlyLogs(logging.Handler):
    """Keeps what is logged before the runner exists (config checks, translation) so that
    :meth:`replay` can put it into the run's log file too."""

    def __init__(self):
        super().__init__(level=logging.INFO)
        self.records: List[logging.LogRecord] = []
        self._logger = MMLogger.get_current_instance()
        self._logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def replay(self, logger: Optional[MMLogger]) -> None:
        self._logger.removeHandler(self)
        if logger is None:
            return
        for handler in logger.handlers:
            if isinstance(handler, logging.FileHandler):
                for record in self.records:
                    if record.levelno >= handler.level:
                        handler.handle(record)


def build_runner(cfg: Config):
    """The runner of a translated config. The model and the hooks are built here from the
    config's values, so an unknown ``type`` or an argument a class refuses is a config error
    (:class:`ConfigError`, with the class's own message)."""
    from mmaction.registry import RUNNERS
    from .config import ConfigError
    from .runner import ActionRunner
    try:
        return RUNNERS.build(cfg) if 'runner_type' in cfg else ActionRunner.from_cfg(cfg)
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, ConfigError):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        raise ConfigError(f'{cfg.filename or "the config"}: building the model and the runner '
                          f'from it failed: {message}') from err
