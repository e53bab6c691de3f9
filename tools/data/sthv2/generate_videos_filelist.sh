#!/usr/bin/env bash
# Lists of Something-Something v2 videos, run from the repository root. Expects the labels
# package in data/sthv2/annotations (its own names labels/{train,validation,labels}.json or
# the renamed something-something-v2-*.json both work) and data/sthv2/videos/ID.webm.
# Writes data/sthv2/sthv2_{train,val}_list_videos.txt.
set -euo pipefail
for SUBSET in train val; do
  python tools/data/build_file_list.py sthv2 data/sthv2/videos --level 1 --format videos \
    --subset "$SUBSET" --shuffle
done
