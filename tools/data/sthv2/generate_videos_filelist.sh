#!/usr/bin/env bash
# Lists of Something-Something v2 videos, run from the repository root
# (tools/data/sthv2/README.md). Expects the labels package in data/sthv2/annotations (its own
# names labels/{train,validation,labels}.json or the renamed something-something-v2-*.json
# both work) and data/sthv2/videos/ID.webm.
# Writes data/sthv2/sthv2_{train,val}_list_videos.txt, the lists every SSv2 config reads.
set -euo pipefail
python tools/data/build_file_list.py sthv2 data/sthv2/videos --subset train val \
  --format videos --shuffle
