# Ours: AIM's Kinetics-400 recipe for CLIP ViT-B/16 with 8-frame clips
# (vitclip_base_k400_8x16x1.py: 8 frames 16 apart, 3 clips x 1 centre crop at test, its
# optimiser and 30-epoch schedule) on your own dataset; docs/custom_dataset.md walks through
# it. Copy this file next to it (the _base_ path is relative) and edit the four values below,
# nothing else: what `python tools/data/build_file_list.py custom SRC --out-dir OUT` printed.
_base_ = ['./vitclip_base_k400_8x16x1.py']

data_root = 'data/my_dataset/videos'  # SRC: the list paths are relative to it
ann_file_train = 'data/my_dataset/lists/train_list.txt'  # OUT/train_list.txt
ann_file_val = 'data/my_dataset/lists/val_list.txt'  # OUT/val_list.txt (also the test set)
num_classes = 10  # the lines of OUT/label_map.txt

model = dict(cls_head=dict(num_classes=num_classes))
data = dict(
    train=dict(ann_file=ann_file_train, data_prefix=data_root),
    val=dict(ann_file=ann_file_val, data_prefix=data_root),
    test=dict(ann_file=ann_file_val, data_prefix=data_root))
work_dir = './work_dirs/vitclip_base_custom'
