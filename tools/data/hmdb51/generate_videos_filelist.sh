#!/usr/bin/env bash
# Lists of HMDB51 videos for official split N (default 1), run from the repository root
# (tools/data/hmdb51/README.md):
#   bash tools/data/hmdb51/generate_videos_filelist.sh [N]
# Expects data/hmdb51/annotations/CLASS_test_splitN.txt (the official
# testTrainMulti_7030_splits/ package, or that folder itself)
# and data/hmdb51/videos/CLASS/VIDEO.avi. Writes data/hmdb51/hmdb51_{train,val}_split_N_videos.txt
# (val = the split's test videos), the lists configs/recognition/vit/vitclip_base_hmdb51.py reads.
set -euo pipefail
SPLIT=${1:-1}
python tools/data/build_file_list.py hmdb51 data/hmdb51/videos --subset train val --split "$SPLIT" \
  --format videos --shuffle
