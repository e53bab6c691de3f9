from .action_data_sample import ActionDataSample, MetaField, VideoIssue
from .data_list import DATA_LIST_KEY, DataList

__all__ = ['ActionDataSample', 'MetaField', 'VideoIssue', 'DATA_LIST_KEY', 'DataList']
