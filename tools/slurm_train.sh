#!/usr/bin/env bash
# Training on a Slurm cluster, one task per GPU.
#   [GPUS=8 GPUS_PER_NODE=8 CPUS_PER_TASK=5 SRUN_ARGS=...] \
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py options]
# MAX_RESTARTS=N: when a task dies (srun --kill-on-bad-exit ends the job step), run the step
# again, up to N times; add --resume so that it continues from the latest checkpoint. A user
# error (exit status 2) is not retried.
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
MAX_RESTARTS=${MAX_RESTARTS:-0}

# the config, its --cfg-options and the files they name, checked once: an error is one
# message and exit status 2, before any worker starts
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
python "$(dirname "$0")/train.py" "${CONFIG}" --work-dir="${WORK_DIR}" "${@:5}" --check-only || exit $?

attempt=0
while true; do
    PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
    srun -p "${PARTITION}" \
        --job-name="${JOB_NAME}" \
        --gres=gpu:"${GPUS_PER_NODE}" \
        --ntasks="${GPUS}" \
        --ntasks-per-node="${GPUS_PER_NODE}" \
        --cpus-per-task="${CPUS_PER_TASK}" \
        --kill-on-bad-exit=1 \
        ${SRUN_ARGS} \
        python -u "$(dirname "$0")/train.py" "${CONFIG}" --work-dir="${WORK_DIR}" --launcher=slurm "${@:5}"
    status=$?
    if [ "$status" -eq 0 ] || [ "$status" -eq 2 ] || [ "$attempt" -ge "$MAX_RESTARTS" ]; then
        exit "$status"
    fi
    attempt=$((attempt + 1))
    echo "slurm_train.sh: the job step ended with status $status; restart $attempt of" \
        "$MAX_RESTARTS" >&2
done
