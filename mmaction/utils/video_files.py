"""Which files are videos, by name: the one rule the folder scanners share (the list
builders, the preparation tools)."""
import os.path as osp

#: file name endings taken as videos (lower case)
VIDEO_EXTENSIONS = frozenset({
    '.mp4', '.avi', '.webm', '.mkv', '.mov', '.m4v', '.mpg', '.mpeg', '.wmv', '.flv', '.3gp',
    '.ogv', '.ts', '.mts'})


def is_video(path: str) -> bool:
    return osp.splitext(path)[1].lower() in VIDEO_EXTENSIONS
