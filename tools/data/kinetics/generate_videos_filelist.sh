#!/usr/bin/env bash
# Lists of Kinetics videos under the names the shipped configs read; run from the repository
# root (tools/data/kinetics/README.md):
#   bash tools/data/kinetics/generate_videos_filelist.sh kinetics400   # or kinetics600, kinetics700
# Reads data/$DATASET/annotations/{train,val}.csv (CVDF's names; DeepMind's validate.csv and
# mmaction2's kinetics_{train,val}.csv work too). For each pair of video folders present it
# writes the lists of the configs that read that folder (videos as CLASS/ID.mp4 or flat ID.mp4):
#   data/$DATASET/{train,val}_256/ -> data/$DATASET/{train,val}_video_list.txt
#       (AIM's ViT and 2D Swin configs; short side 256)
#   data/$DATASET/{train,val}/     -> data/$DATASET/${DATASET}_{train,val}_list.txt
#       (the Video Swin configs)
# and for kinetics400 also data/kinetics400/train_video_list_10.txt (timesformer_k400.py): a
# class-stratified 10 % of the training videos, drawn with seed 0.
set -euo pipefail
DATASET=${1:-kinetics400}
ROOT="data/$DATASET"
LIST="python tools/data/build_file_list.py $DATASET"
wrote=0
if [ -d "$ROOT/train_256" ] && [ -d "$ROOT/val_256" ]; then
  $LIST "$ROOT/{subset}_256" --subset train val --format videos --shuffle \
    --out "$ROOT/{subset}_video_list.txt"
  if [ "$DATASET" = kinetics400 ]; then
    $LIST "$ROOT/train_256" --subset train --format videos --fraction 0.1 --seed 0 --shuffle \
      --out "$ROOT/train_video_list_10.txt"
  fi
  wrote=1
fi
if [ -d "$ROOT/train" ] && [ -d "$ROOT/val" ]; then
  $LIST "$ROOT/{subset}" --subset train val --format videos --shuffle \
    --out "$ROOT/${DATASET}_{subset}_list.txt"
  wrote=1
fi
if [ "$wrote" = 0 ]; then
  echo "error: found neither $ROOT/{train,val}_256/ nor $ROOT/{train,val}/: put the videos" \
       "there (tools/data/kinetics/README.md)" >&2
  exit 2
fi
