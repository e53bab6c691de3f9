#!/usr/bin/env bash
# Lists of Diving-48 (V2) videos, run from the repository root (tools/data/diving48/README.md).
# Expects data/diving48/annotations/Diving48_V2_{train,test}.json and data/diving48/videos/ID.mp4.
# Writes data/diving48/diving48_{train,val}_list_videos.txt (val = the official test split),
# the lists every Diving-48 config reads.
set -euo pipefail
python tools/data/build_file_list.py diving48 data/diving48/videos --subset train val \
  --format videos --shuffle
