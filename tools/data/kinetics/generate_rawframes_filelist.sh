#!/usr/bin/env bash
# Lists of Kinetics frame folders (data/$DATASET/rawframes_{train,val}/CLASS_NAME/ID/img_*.jpg),
# run from the repository root:
#   bash tools/data/kinetics/generate_rawframes_filelist.sh kinetics400
# Writes data/$DATASET/${DATASET}_{train,val}_list_rawframes.txt (no shipped config reads
# frames: point data.*.ann_file / data.*.data_prefix of a RawframeDataset config at them).
set -euo pipefail
DATASET=${1:-kinetics400}
python tools/data/build_file_list.py "$DATASET" "data/$DATASET/rawframes_{subset}" \
  --subset train val --format rawframes --shuffle
