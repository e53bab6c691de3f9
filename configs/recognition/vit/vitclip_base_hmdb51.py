# Ours, not one of AIM's experiments (AIM reports no HMDB51 results): AIM's Kinetics-400
# recipe for CLIP ViT-B/16 with 8-frame clips (vitclip_base_k400_8x16x1.py: 8 frames 16
# apart, 3 clips x 1 centre crop at test, its optimiser and 30-epoch schedule) on HMDB51
# official split 1, with a 51-class head. Untuned: a starting point for fine-tuning, with no
# reported accuracy. The lists: bash tools/data/hmdb51/generate_videos_filelist.sh
# (tools/data/hmdb51/README.md); other splits: run it with 2 or 3 and point the lists there.
_base_ = ['./vitclip_base_k400_8x16x1.py']

num_classes = 51
data_root = 'data/hmdb51/videos'
ann_file_train = 'data/hmdb51/hmdb51_train_split_1_videos.txt'
ann_file_val = 'data/hmdb51/hmdb51_val_split_1_videos.txt'

model = dict(cls_head=dict(num_classes=num_classes))
data = dict(
    train=dict(ann_file=ann_file_train, data_prefix=data_root),
    val=dict(ann_file=ann_file_val, data_prefix=data_root),
    test=dict(ann_file=ann_file_val, data_prefix=data_root))
work_dir = './work_dirs/vitclip_base_hmdb51'
