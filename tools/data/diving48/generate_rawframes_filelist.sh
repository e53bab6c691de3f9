#!/usr/bin/env bash
# Lists of Diving-48 frame folders (data/diving48/rawframes/ID/img_*.jpg), run from the
# repository root. Writes data/diving48/diving48_{train,val}_list_rawframes.txt.
set -euo pipefail
python tools/data/build_file_list.py diving48 data/diving48/rawframes --subset train val \
  --format rawframes --shuffle
