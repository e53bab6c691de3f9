#!/usr/bin/env bash
# Lists of UCF101 frame folders (data/ucf101/rawframes/CLASS/VIDEO/img_*.jpg) for official split N
# (default 1), run from the repository root:
#   bash tools/data/ucf101/generate_rawframes_filelist.sh [N]
# Writes data/ucf101/ucf101_{train,val}_split_N_rawframes.txt.
set -euo pipefail
SPLIT=${1:-1}
python tools/data/build_file_list.py ucf101 data/ucf101/rawframes --subset train val --split "$SPLIT" \
  --format rawframes --shuffle
