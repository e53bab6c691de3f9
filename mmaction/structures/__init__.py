from .action_data_sample import ActionDataSample, MetaField, VideoIssue

__all__ = ['ActionDataSample', 'MetaField', 'VideoIssue']
