#!/usr/bin/env bash
# Lists of Kinetics videos from the official csv files, run from the repository root:
#   bash tools/data/kinetics/generate_videos_filelist.sh kinetics400
# expects data/$DATASET/annotations/kinetics_{train,val}.csv and the videos under
# data/$DATASET/{train,val}/CLASS_NAME/ID.mp4 (the configs' data_prefix); writes
# data/$DATASET/${DATASET}_{train,val}_list_videos.txt.
set -euo pipefail
DATASET=${1:-kinetics400}
for SUBSET in train val; do
  python tools/data/build_file_list.py "$DATASET" "data/$DATASET/$SUBSET" --level 2 \
    --format videos --subset "$SUBSET" --shuffle
done
