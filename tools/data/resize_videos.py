"""Re-encode every video under SRC as H.264 with a given short side (and keyframe interval),
keeping the relative paths, the frame count and the frame rate; audio is dropped.

    python tools/data/resize_videos.py data/kinetics400/train data/kinetics400/train_256 \\
        --short-side 256 --keyint 16 --tune fastdecode --nproc 8

``SRC/a/b.webm`` becomes ``DST/a/b.mp4`` (libx264, yuv420p, even sizes). The decoders start
at the keyframe before the first sampled frame; ``--keyint 16 --tune fastdecode`` doubled
the clips per data-loader worker of the shipped training pipelines on the benchmark videos
(docs/data.md, "Preparing videos and frames"). Resumable: finished files are skipped, each is
written under a temporary name and renamed, so an interrupted run leaves no half file. The
run ends with the files that failed and exit status 1 if there were any.

The extension becomes ``.mp4``: regenerate the annotation lists on DST
(``tools/data/build_file_list.py ... DST``) when they name other extensions (SSv2's
``.webm``).
"""
import argparse
import os
import os.path as osp
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='folder of videos (searched recursively)')
    parser.add_argument('dst', help='output folder (created; the same relative paths)')
    parser.add_argument('--short-side', type=int, default=256,
                        help='short side of the output in pixels (0: keep the size)')
    parser.add_argument('--upscale', action='store_true',
                        help='also enlarge videos whose short side is below --short-side '
                        '(by default they keep their size)')
    parser.add_argument('--keyint', type=int, default=None,
                        help="keyframe interval in frames (x264's and FFmpeg's default: 250)")
    parser.add_argument('--crf', type=int, default=23, help="libx264 quality (x264's default)")
    parser.add_argument('--preset', default='medium', help='libx264 speed preset')
    parser.add_argument('--tune', help="libx264 tune, e.g. fastdecode (about twice as fast to "
                        "decode, a third larger: docs/data.md)")
    parser.add_argument('--nproc', type=int, default=os.cpu_count() or 1,
                        help='worker processes (one encoder thread each)')
    parser.add_argument('--debug', action='store_true', help='show the traceback of an error')
    args = parser.parse_args(argv)
    if args.short_side < 0 or (args.keyint is not None and args.keyint < 1) or args.nproc < 1:
        parser.error('--short-side must be >= 0, --keyint >= 1, --nproc >= 1')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmaction.datasets.preparation import find_videos, report, resize_video, run_jobs
    videos, others = find_videos(args.src)
    if others:
        print(f'{others} files under {args.src} are not videos (by extension) and are passed '
              'over')
    kwargs = dict(short_side=args.short_side or None, keyint=args.keyint, crf=args.crf,
                  preset=args.preset, tune=args.tune, upscale=args.upscale)
    src_of = {osp.join(args.dst, osp.splitext(rel)[0] + '.mp4'): osp.join(args.src, rel)
              for rel in videos}
    if len(src_of) < len(videos):
        raise ValueError(f'{args.src} holds videos that differ only by extension; their '
                         'outputs would have the same name (.mp4). Move one of each pair.')
    jobs = [(resize_video, src, dst, kwargs) for dst, src in src_of.items()]
    return report(run_jobs(jobs, args.nproc), src_of, 'videos')


if __name__ == '__main__':
    from mmaction.engine.launch import run_tool
    sys.exit(run_tool(main))
