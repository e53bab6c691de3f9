#!/usr/bin/env bash
# Distributed training on one or several machines with torchrun.
#   bash tools/dist_train.sh CONFIG GPUS [tools/train.py options]
# Several machines: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=<first machine> PORT=29500 on each.
# MAX_RESTARTS=N: torchrun restarts the workers up to N times when one dies; add --resume so
# that each restart continues from the latest checkpoint (docs/training.md).
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
MAX_RESTARTS=${MAX_RESTARTS:-0}

# the config, its --cfg-options and the files they name, checked once: an error is one
# message and exit status 2, before any worker starts
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
python "$(dirname "$0")/train.py" "$CONFIG" "${@:3}" --check-only || exit $?

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
python -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    --max-restarts="$MAX_RESTARTS" \
    "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "${@:3}"
