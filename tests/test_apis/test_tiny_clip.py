"""The quickstart's image model: it learns, and it is saved in OpenAI's file layout."""
import torch

from mmaction.checkpoint.clip import is_torchscript_archive, load_clip_into
from mmaction.models.backbones.vit_clip import ViT_CLIP
from mmaction.synthetic.tiny_clip import pretrain_tiny_clip


def test_pretraining_lowers_the_loss_and_saves_a_loadable_openai_archive(tmp_path):
    path = str(tmp_path / 'tiny_clip.pt')
    out = pretrain_tiny_clip(path, iters=40, batch_size=16, log_every=20, seed=1)
    first, last = out['history'][0], out['history'][-1]
    assert [h['iter'] for h in out['history']] == [1, 20, 40]
    assert last['loss'] < 0.7 * first['loss']

    assert is_torchscript_archive(path)
    raw = torch.jit.load(path).state_dict()
    assert raw['visual.conv1.weight'].dtype == torch.float16 and 'token_embedding.weight' in raw

    backbone = ViT_CLIP(input_resolution=32, patch_size=8, width=64, layers=4, heads=4,
                        num_frames=8)
    load_clip_into(backbone, path)
    tower = out['tower']
    for name, value in tower.state_dict().items():
        if name != 'proj':
            torch.testing.assert_close(backbone.state_dict()[name], value.half().float())
