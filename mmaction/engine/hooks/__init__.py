from .bad_video_hook import BadVideoHook

__all__ = ['BadVideoHook']
