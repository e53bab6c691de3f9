"""Extract the frames of every video under SRC as JPEG files, in the layout RawframeDataset
reads, and write the rawframes annotation list.

    python tools/data/build_rawframes.py data/kinetics400/train data/kinetics400/rawframes_train \\
        --short-side 256 --nproc 8 \\
        --video-list data/kinetics400/kinetics400_train_list_videos.txt

``SRC/a/b.mp4`` becomes ``DST/a/b/img_00001.jpg``, ``img_00002.jpg`` ... (one file per
frame, every frame; RawframeDataset's default ``filename_tmpl='img_{:05}.jpg'`` and
``start_index=1``, so the sampler draws the same frames as from the video).

With ``--video-list`` (a VideoDataset list, ``path label`` lines relative to SRC, or its
``.json`` form) only the listed videos are extracted, and the rawframes list is written
(``a/b FRAMES label`` lines, relative to DST, in the list's order; videos that failed are left
out and printed): by default next to the video list, its name with ``videos`` made
``rawframes`` (``kinetics400_train_list_videos.txt`` -> ``kinetics400_train_list_rawframes.txt``),
or ``--out-list``. Without it, every video under SRC is extracted and the labelled lists come
from ``tools/data/build_file_list.py DATASET DST --format rawframes`` (which counts the
frames) or ``generate_rawframes_filelist.sh``.

Resumable: each video's frames are written into a hidden folder that is renamed when complete,
so a folder that exists is complete and is skipped; an interrupted run leaves no half folder.
The run ends with the videos that failed and exit status 1 if there were any.
"""
import argparse
import os
import os.path as osp
import re
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='folder of videos (searched recursively)')
    parser.add_argument('dst', help='output folder: one frame folder per video')
    parser.add_argument('--short-side', type=int, default=256,
                        help='short side of the frames in pixels (0: keep the size)')
    parser.add_argument('--upscale', action='store_true',
                        help='also enlarge videos whose short side is below --short-side')
    parser.add_argument('--quality', type=int, default=95, help='JPEG quality, 1-100')
    parser.add_argument('--chroma', default='420', choices=['420', '444'],
                        help="JPEG colour sampling: 420 (OpenCV's and mmaction2's), or 444 "
                        '(sharper colour, more bytes, slower to read: docs/data.md)')
    parser.add_argument('--video-list', help='VideoDataset list of the videos (relative to '
                        'SRC) with their labels: extract those and write the rawframes list')
    parser.add_argument('--out-list', help='rawframes list to write (default: from '
                        '--video-list\'s name)')
    parser.add_argument('--nproc', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--debug', action='store_true', help='show the traceback of an error')
    args = parser.parse_args(argv)
    if args.short_side < 0 or not 1 <= args.quality <= 100 or args.nproc < 1:
        parser.error('--short-side must be >= 0, --quality 1-100, --nproc >= 1')
    if args.out_list and not args.video_list:
        parser.error('--out-list needs --video-list (the labels come from it)')
    return args


def rawframes_list_name(video_list: str) -> str:
    """``..._list_videos.txt`` -> ``..._list_rawframes.txt``; ``train_video_list.txt`` ->
    ``train_rawframe_list.txt``; otherwise ``_rawframes`` before the extension."""
    folder, name = osp.split(video_list)
    for word, new in (('videos', 'rawframes'), ('video', 'rawframe')):
        if word in name:
            head, _, tail = name.rpartition(word)
            return osp.join(folder, head + new + tail)
    root, ext = osp.splitext(name)
    return osp.join(folder, f'{root}_rawframes{ext or ".txt"}')


def listed_videos(video_list: str):
    """[(path relative to SRC, label text)] of a VideoDataset list, parsed as training
    parses it (errors name file:line)."""
    from mmaction.datasets import VideoDataset
    dataset = VideoDataset(video_list, [], serialize_data=False,
                           multi_class=False)
    out = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        out.append((info['filename'], str(info['label'])))
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmaction.datasets import preparation as prep
    from mmaction.utils import write_text_atomic
    if args.video_list:
        entries = listed_videos(args.video_list)
        if not osp.isdir(args.src):
            raise FileNotFoundError(f'{args.src} is not a folder: give the folder the paths '
                                    f'of {args.video_list} are relative to')
    else:
        videos, others = prep.find_videos(args.src)
        entries = [(rel, None) for rel in videos]
        if others:
            print(f'{others} files under {args.src} are not videos (by extension) and are '
                  'passed over')
    kwargs = dict(short_side=args.short_side or None, quality=args.quality,
                  chroma=args.chroma, upscale=args.upscale)
    src_of, frame_dirs = {}, []
    for rel, _ in entries:
        frame_dir = re.sub(r'\.[^./\\]*$', '', osp.normpath(rel))
        dst = osp.join(args.dst, frame_dir)
        if src_of.setdefault(dst, osp.join(args.src, rel)) != osp.join(args.src, rel):
            raise ValueError(f'{src_of[dst]} and {osp.join(args.src, rel)} would both be '
                             f'extracted to {dst}: rename one of them')
        frame_dirs.append(frame_dir)
    jobs = [(prep.extract_frames, src, dst, kwargs) for dst, src in src_of.items()]
    results = prep.run_jobs(jobs, args.nproc)
    status = prep.report(results, src_of, 'frame folders')
    if args.video_list:
        counts = {dst: (detail if state == 'done' else prep.count_frames(dst))
                  for dst, state, detail in results if state != 'failed'}
        lines = [f'{d} {counts[osp.join(args.dst, d)]} {label}\n'
                 for d, (_, label) in zip(frame_dirs, entries) if osp.join(args.dst, d) in counts]
        out_list = args.out_list or rawframes_list_name(args.video_list)
        write_text_atomic(out_list, ''.join(lines))
        print(f'{len(lines)} of the {len(entries)} videos of {args.video_list} -> {out_list} '
              f'(frame folders relative to {args.dst}: the data_prefix of a RawframeDataset)')
    return status


if __name__ == '__main__':
    from mmaction.engine.launch import run_tool
    sys.exit(run_tool(main))
