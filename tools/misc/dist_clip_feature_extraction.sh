#!/usr/bin/env bash
# Feature extraction on several GPUs with torchrun; each rank takes every GPUS-th video.
#   bash tools/misc/dist_clip_feature_extraction.sh CONFIG CHECKPOINT GPUS LIST --out DIR \
#       [clip_feature_extraction.py options]
# Several machines: NNODES, NODE_RANK, MASTER_ADDR, PORT as for tools/dist_train.sh.
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

# the config, the list, the videos and the checkpoint, checked once: an error is one
# message and exit status 2, before any worker starts
PYTHONPATH="$(dirname "$0")/../..":$PYTHONPATH \
python "$(dirname "$0")/clip_feature_extraction.py" "$CONFIG" "$CHECKPOINT" "${@:4}" \
    --check-only || exit $?

PYTHONPATH="$(dirname "$0")/../..":$PYTHONPATH \
python -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$(dirname "$0")/clip_feature_extraction.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch \
    "${@:4}"
