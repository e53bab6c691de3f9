#!/usr/bin/env bash
# Lists of HMDB51 frame folders (data/hmdb51/rawframes/CLASS/VIDEO/img_*.jpg) for official split N
# (default 1), run from the repository root:
#   bash tools/data/hmdb51/generate_rawframes_filelist.sh [N]
# Writes data/hmdb51/hmdb51_{train,val}_split_N_rawframes.txt.
set -euo pipefail
SPLIT=${1:-1}
python tools/data/build_file_list.py hmdb51 data/hmdb51/rawframes --subset train val --split "$SPLIT" \
  --format rawframes --shuffle
