#!/usr/bin/env bash
# Lists of UCF101 videos for official split N (default 1), run from the repository root
# (tools/data/ucf101/README.md):
#   bash tools/data/ucf101/generate_videos_filelist.sh [N]
# Expects data/ucf101/annotations/{classInd,trainlist0N,testlist0N}.txt (the official
# ucfTrainTestlist/ package, or that folder itself)
# and data/ucf101/videos/CLASS/VIDEO.avi. Writes data/ucf101/ucf101_{train,val}_split_N_videos.txt
# (val = the split's test videos), the lists configs/recognition/vit/vitclip_base_ucf101.py reads.
set -euo pipefail
SPLIT=${1:-1}
python tools/data/build_file_list.py ucf101 data/ucf101/videos --subset train val --split "$SPLIT" \
  --format videos --shuffle
