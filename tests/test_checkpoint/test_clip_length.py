"""Checkpoints trained at another clip length load into a model of another num_frames: the
temporal tensors are resampled as the model itself resamples them for such clips, and the
log says from which length to which."""
import pytest
import torch

from mmaction.checkpoint import load_into, load_state_dict_checked
from mmaction.models.backbones import SwinTransformer2D_Adapter
from mmaction.registry import MODELS
from tests.helpers import tiny_backbone, tiny_recognizer

SWIN = dict(embed_dim=16, depths=[2, 2], num_heads=[1, 2], window_size=4, input_resolution=32,
            drop_path_rate=0.0)


def _recognizer(num_frames):
    model = MODELS.build(tiny_recognizer(num_classes=3, backbone=tiny_backbone(
        num_frames=num_frames), test_cfg=dict(average_clips='prob'))).eval()
    with torch.no_grad():  # a trained-looking model: every adapter and embedding non-zero
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.normal_(std=0.3)
    return model


def test_temporal_embedding_is_interpolated_to_the_models_frames(tmp_path, mmlog):
    trained = _recognizer(num_frames=2)
    with torch.no_grad():
        trained.backbone.temporal_embedding.copy_(
            torch.tensor([0.0, 4.0]).view(1, 2, 1).expand(1, 2, 64))
    path = tmp_path / 'two_frames.pth'
    torch.save({'meta': {}, 'state_dict': trained.state_dict()}, path)
    model = _recognizer(num_frames=4)
    load_into(model, str(path))
    # linear, align_corners=False: output i samples the source at (i + 0.5) * 2 / 4 - 0.5,
    # clamped to [0, 1]: 0 -> 0, 0.25 -> 1, 0.75 -> 3, 1.25 -> 4
    torch.testing.assert_close(model.backbone.temporal_embedding[0, :, 0],
                               torch.tensor([0.0, 1.0, 3.0, 4.0]))
    assert 'interpolated it linearly from T=2 to T=4' in mmlog.text
    assert str(path) in mmlog.text


@pytest.mark.parametrize('trained_at, tested_at', [(8, 16), (8, 4), (32, 8)])
def test_loaded_model_equals_the_trained_model_on_clips_of_the_new_length(
        tmp_path, trained_at, tested_at):
    """Train at 8, test at 16 or 4; AIM's 32-frame releases in an 8-frame config."""
    trained = _recognizer(trained_at)
    path = tmp_path / 'ckpt.pth'
    torch.save({'meta': {}, 'state_dict': trained.state_dict()}, path)
    model = _recognizer(tested_at)
    load_into(model, str(path))
    assert model.backbone.temporal_embedding.shape == (1, tested_at, 64)
    clip = torch.randn(2, 3, tested_at, 32, 32)
    with torch.no_grad():  # the trained model interpolates at run time; the loaded one is sized
        torch.testing.assert_close(model.backbone(clip), trained.backbone(clip))


def test_aim_swin_tables_of_another_frame_count_are_resampled(mmlog):
    trained = SwinTransformer2D_Adapter(num_frames=16, **SWIN).eval()  # T' = 8 tokens
    with torch.no_grad():
        for name, p in trained.named_parameters():
            if 'temporal_position_bias_table' in name or 'Adapter' in name:
                p.normal_(std=0.3)
    model = SwinTransformer2D_Adapter(num_frames=8, **SWIN).eval()  # T' = 4
    load_state_dict_checked(model, trained.state_dict(), 'swin16.pth')
    table = 'layers.0.blocks.0.attn.temporal_position_bias_table'
    assert model.state_dict()[table].shape == (7, 1)
    assert model.state_dict()['layers.0.blocks.0.attn.t_relative_coords'].shape == (4, 4)
    clip = torch.randn(1, 3, 8, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(clip), trained(clip))
    assert "from T'=8 to T'=4" in mmlog.text


def test_other_shape_mismatches_are_still_refused(tmp_path):
    trained = MODELS.build(tiny_recognizer(num_classes=5))
    path = tmp_path / 'five_classes.pth'
    torch.save({'state_dict': trained.state_dict()}, path)
    with pytest.raises(ValueError, match=r'cls_head.fc_cls.weight has shape \(5, 64\) in the '
                                         r'file but \(3, 64\) in the model'):
        load_into(_recognizer(4), str(path))


def test_resuming_at_another_clip_length_is_refused(tmp_path):
    """Its optimizer state has the checkpoint's length: only the weights can be reused."""
    from mmaction.engine import ActionRunner
    from tests.test_engine.engine_helpers import make_batch

    class Clips(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            batch = make_batch(1, num_classes=3, frames=4, seed=i)
            return dict(inputs=batch['inputs'][0], data_samples=batch['data_samples'][0])

    def runner(num_frames, **kw):
        return ActionRunner(
            model=tiny_recognizer(num_classes=3, backbone=tiny_backbone(num_frames=num_frames)),
            work_dir=str(tmp_path), default_scope='mmaction',
            experiment_name=f'resume_{num_frames}_{len(kw)}',
            train_dataloader=dict(dataset=Clips(), batch_size=2, num_workers=0,
                                  sampler=dict(type='DefaultSampler', shuffle=False),
                                  collate_fn=dict(type='pseudo_collate')),
            train_cfg=dict(by_epoch=True, max_epochs=kw.pop('max_epochs', 1)),
            optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3),
                               constructor='TrainableParamsOptimWrapperConstructor'), **kw)

    runner(4).train()
    with pytest.raises(ValueError, match='cannot resume from it.*load_from='):
        runner(8, max_epochs=2, load_from=str(tmp_path / 'epoch_1.pth'), resume=True).train()
