"""Swin's building blocks (``swin_common``) against independent, slower formulations."""
import itertools
import math

import pytest
import torch

from mmaction.models.backbones.swin2d_adapter import SpaceTimeWindowAttention
from mmaction.models.backbones.swin_common import (
    PatchMerging,
    WindowAttention,
    relative_position_index,
    shifted_window_attention,
    window_partition,
)


def explicit_window_attention(attn, x, window, shift):
    """Shifted-window attention computed token by token from its definition.

    The grid (padded to a multiple of the window) is rolled by -shift and cut into windows.
    Query o attends to key o' iff both are real tokens in the same window of the rolled grid
    and the roll did not wrap between them, i.e. their offset in the rolled grid equals
    their offset in the original one. The logit gets the bias of that offset.
    """
    grid = x.shape[1:-1]
    win = [g if g <= w else w for g, w in zip(grid, window)]
    sft = [0 if g <= w else s for g, w, s in zip(grid, window, shift)]
    padded = [math.ceil(g / w) * w for g, w in zip(grid, win)]
    heads = attn.num_heads
    c = x.shape[-1]
    d = c // heads
    q, k, v = attn.qkv(x).split(c, dim=-1)
    positions = torch.tensor(list(itertools.product(*[range(g) for g in grid])))  # (L, dims)
    rolled = (positions - torch.tensor(sft)) % torch.tensor(padded)
    wid = rolled // torch.tensor(win)
    flat = lambda t: t.reshape(t.shape[0], -1, c)  # noqa: E731
    q, k, v = flat(q), flat(k), flat(v)
    out = torch.zeros_like(q)
    for i in range(positions.shape[0]):
        same_window = (wid == wid[i]).all(1)
        no_wrap = ((rolled[i] - rolled) == (positions[i] - positions)).all(1)
        keys = torch.nonzero(same_window & no_wrap)[:, 0]
        offset = rolled[i] - rolled[keys]  # (K, dims)
        row = torch.zeros(len(keys), dtype=torch.long)
        for dim, tw in enumerate(attn.window_size):
            row = row * (2 * tw - 1) + offset[:, dim] + tw - 1
        bias = attn.relative_position_bias_table[row].t()  # (heads, K)
        qi = q[:, i].view(-1, heads, 1, d)
        kk = k[:, keys].view(-1, len(keys), heads, d).transpose(1, 2)
        vv = v[:, keys].view(-1, len(keys), heads, d).transpose(1, 2)
        logits = (qi @ kk.transpose(-1, -2))[:, :, 0] * attn.scale + bias  # (B, heads, K)
        out[:, i] = (logits.softmax(-1).unsqueeze(-1) * vv).sum(2).reshape(-1, c)
    return attn.proj(out).view(x.shape)


CASES = {
    'shifted 2D': ((8, 8), (4, 4), (2, 2)),
    'unshifted 2D': ((8, 8), (4, 4), (0, 0)),
    'padded, shifted, non-square 2D': ((6, 7), (4, 4), (2, 2)),
    'padded, unshifted 2D': ((6, 6), (4, 4), (0, 0)),
    'grid smaller than the window': ((3, 3), (4, 4), (2, 2)),
    'shifted 3D with padding': ((4, 6, 6), (2, 4, 4), (1, 2, 2)),
}


@pytest.mark.parametrize('grid,window,shift', CASES.values(), ids=CASES.keys())
def test_shifted_window_attention_matches_per_window_definition(grid, window, shift):
    attn = WindowAttention(dim=8, window_size=window, num_heads=2)
    with torch.no_grad():  # a bias large enough to matter
        attn.relative_position_bias_table.normal_(std=1.0)
    x = torch.randn(2, *grid, 8)
    got = shifted_window_attention(attn, x, window, shift)
    want = explicit_window_attention(attn, x, window, shift)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


def test_gradients_reach_the_bias_table_through_sdpa():
    attn = WindowAttention(dim=8, window_size=(4, 4), num_heads=2)
    x = torch.randn(1, 8, 8, 8)
    target = torch.randn(1, 8, 8, 8)
    grads = []
    for fn in (shifted_window_attention, explicit_window_attention):
        attn.zero_grad()
        ((fn(attn, x, (4, 4), (2, 2)) - target)**2).sum().backward()
        grads.append(attn.relative_position_bias_table.grad.clone())
    assert grads[0].abs().sum() > 0
    torch.testing.assert_close(grads[0], grads[1], atol=1e-5, rtol=1e-4)


def test_relative_position_index_of_a_2x2_window():
    # offsets (dh, dw) in {-1, 0, 1}^2, row-major table of 3x3: row = (dh + 1) * 3 + dw + 1
    expected = torch.tensor([[4, 3, 1, 0], [5, 4, 2, 1], [7, 6, 4, 3], [8, 7, 5, 4]])
    assert torch.equal(relative_position_index((2, 2)), expected)


def test_relative_position_index_of_a_smaller_window_uses_the_full_table():
    full = relative_position_index((2, 3, 3))
    sub = relative_position_index((1, 3, 3), table_window=(2, 3, 3))
    # a window one frame deep holds the first 9 tokens of the 2x3x3 one
    assert torch.equal(sub, full[:9, :9])
    sub_hw = relative_position_index((2, 2), table_window=(3, 3))
    # tokens (0,0),(0,1),(1,0),(1,1) of the 3x3 window are 0, 1, 3, 4
    keep = torch.tensor([0, 1, 3, 4])
    assert torch.equal(sub_hw, relative_position_index((3, 3))[keep][:, keep])


def test_window_partition_order():
    x = torch.arange(4 * 6).view(1, 4, 6, 1).float().repeat(2, 1, 1, 1)
    windows = window_partition(x, (2, 3))  # 2 samples x (2 x 2) windows of 6 tokens
    assert windows.shape == (8, 6, 1)
    assert windows[0, :, 0].tolist() == [0, 1, 2, 6, 7, 8]  # top-left window, row-major
    assert windows[1, :, 0].tolist() == [3, 4, 5, 9, 10, 11]  # its right neighbour
    assert windows[3, :, 0].tolist() == [15, 16, 17, 21, 22, 23]  # bottom right


def test_patch_merging_concatenates_in_swin_order():
    merge = PatchMerging(dim=3)
    x = torch.randn(2, 4, 6, 3)
    x0, x1 = x[:, 0::2, 0::2], x[:, 1::2, 0::2]
    x2, x3 = x[:, 0::2, 1::2], x[:, 1::2, 1::2]
    want = merge.reduction(merge.norm(torch.cat([x0, x1, x2, x3], dim=-1)))
    torch.testing.assert_close(merge(x), want)
    assert merge(torch.randn(2, 5, 7, 3)).shape == (2, 3, 4, 6)  # odd sides are padded


def test_temporal_attention_with_relative_bias():
    attn = SpaceTimeWindowAttention(8, (7, 7), num_heads=2, num_t_tokens=4)
    with torch.no_grad():
        attn.temporal_position_bias_table.normal_(std=1.0)
    x = torch.randn(3, 4, 8)  # 3 positions, 4 temporal tokens
    q, k, v = attn.qkv(x).view(3, 4, 3, 2, 4).permute(2, 0, 3, 1, 4)
    offsets = torch.arange(4)[:, None] - torch.arange(4)[None, :]
    bias = attn.temporal_position_bias_table[offsets + 3].permute(2, 0, 1)  # (heads, 4, 4)
    weights = ((q @ k.transpose(-1, -2)) * attn.scale + bias).softmax(-1)
    want = attn.proj((weights @ v).transpose(1, 2).reshape(3, 4, 8))
    torch.testing.assert_close(attn.temporal(x), want)


def test_temporal_bias_table_is_resampled_for_other_clip_lengths():
    attn = SpaceTimeWindowAttention(8, (7, 7), num_heads=2, num_t_tokens=4)
    with torch.no_grad():  # rows are offsets -3..3
        attn.temporal_position_bias_table.copy_(
            torch.arange(7.)[:, None] * torch.tensor([1., 10.]))
    table = attn.temporal_position_bias_table.detach()
    # 2 tokens: offsets -1, 0, 1 take the table's first, centre and last rows;
    # bias[i, j] is the row of offset i - j
    torch.testing.assert_close(attn.temporal_bias(2).detach(),
                               table[torch.tensor([[3, 0], [6, 3]])].permute(2, 0, 1))
    # 3 tokens: 5 offsets at table positions 0, 1.5, 3, 4.5, 6
    rows = torch.stack([table[0], (table[1] + table[2]) / 2, table[3], (table[4] + table[5]) / 2,
                        table[6]])
    idx = torch.arange(3)[:, None] - torch.arange(3)[None, :] + 2
    torch.testing.assert_close(attn.temporal_bias(3).detach(), rows[idx].permute(2, 0, 1))
    # 1 token: only offset 0
    torch.testing.assert_close(attn.temporal_bias(1).detach(), table[3].view(2, 1, 1))
