#!/usr/bin/env bash
# Lists of Diving-48 frame folders (data/diving48/rawframes/ID/img_*.jpg).
# Writes data/diving48/diving48_{train,val}_list_rawframes.txt.
set -euo pipefail
for SUBSET in train val; do
  python tools/data/build_file_list.py diving48 data/diving48/rawframes --level 1 \
    --format rawframes --subset "$SUBSET" --shuffle
done
