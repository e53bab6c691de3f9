_base_ = ['./vitclip_base_k400.py']

model = dict(cls_head=dict(num_classes=700))
data_root = 'data/kinetics700/train'
data_root_val = 'data/kinetics700/val'
ann_file_train = 'data/kinetics700/kinetics700_train_list_videos.txt'
ann_file_val = 'data/kinetics700/kinetics700_val_list_videos.txt'
ann_file_test = 'data/kinetics700/kinetics700_val_list_videos.txt'
data = dict(
    train=dict(ann_file=ann_file_train, data_prefix=data_root),
    val=dict(ann_file=ann_file_val, data_prefix=data_root_val),
    test=dict(ann_file=ann_file_test, data_prefix=data_root_val))
work_dir = './work_dirs/vitclip_base_k700'
