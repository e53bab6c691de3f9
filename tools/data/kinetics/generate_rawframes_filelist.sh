#!/usr/bin/env bash
# Lists of Kinetics frame folders (data/$DATASET/rawframes_{train,val}/CLASS_NAME/ID/img_*.jpg):
#   bash tools/data/kinetics/generate_rawframes_filelist.sh kinetics400
set -euo pipefail
DATASET=${1:-kinetics400}
for SUBSET in train val; do
  python tools/data/build_file_list.py "$DATASET" "data/$DATASET/rawframes_$SUBSET" --level 2 \
    --format rawframes --subset "$SUBSET" --shuffle
done
