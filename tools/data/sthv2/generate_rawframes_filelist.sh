#!/usr/bin/env bash
# Lists of Something-Something v2 frame folders (data/sthv2/rawframes/ID/img_*.jpg), run from
# the repository root. Writes data/sthv2/sthv2_{train,val}_list_rawframes.txt.
set -euo pipefail
python tools/data/build_file_list.py sthv2 data/sthv2/rawframes --subset train val \
  --format rawframes --shuffle
