"""The naive formulations the benchmark compares against (not used by the package).

PFS and KA affinity with explicit P x P matrices, ICSD with a Python loop over class pairs as
in the official AICSD code (but with a true KL), CSD with a loop over class pairs.
"""
import torch
import torch.nn.functional as F


def _rows(feat):
    return F.normalize(feat.flatten(2).transpose(1, 2), dim=2)


def _resize(fs, ft):
    if fs.shape[-2:] != ft.shape[-2:]:
        fs = F.interpolate(fs, size=ft.shape[-2:], mode='bilinear', align_corners=False)
    return fs


def pfs_cosine_mse(fs, ft):
    s, t = _rows(_resize(fs, ft)), _rows(ft)
    return ((s @ s.transpose(1, 2) - t @ t.transpose(1, 2))**2).mean()


def pfs_softmax_kl(fs, ft, tau=1.0):
    s, t = _rows(_resize(fs, ft)), _rows(ft)
    log_q_s = F.log_softmax(s @ s.transpose(1, 2) / tau, dim=2)
    log_q_t = F.log_softmax(t @ t.transpose(1, 2) / tau, dim=2)
    return tau**2 * (log_q_t.exp() * (log_q_t - log_q_s)).sum(2).mean()


def affinity(fs, ft):
    s, t = _rows(_resize(fs, ft)), _rows(ft)
    P = s.shape[1]
    return ((s @ s.transpose(1, 2) - t @ t.transpose(1, 2)) / P).norm(dim=2).mean()


def affinity_channel_loop(fs, ft):
    """torchdistill's AffinityLoss as it computes it: per channel, the (H*W x H*W) outer
    products of the normalised maps."""
    fs = _resize(fs, ft)
    s = F.normalize(fs.flatten(2), dim=2)
    t = F.normalize(ft.flatten(2), dim=2)
    hw = s.shape[2]
    total = torch.zeros(s.shape[0], device=s.device)
    for c in range(s.shape[1]):
        total = total + ((s[:, c, :, None] * s[:, c, None]) -
                         (t[:, c, :, None] * t[:, c, None])).div(hw).norm(dim=(1, 2))
    return total.mean()


def icsd_pair_loop(zs, zt, tau=1.0):
    def matrix(z):
        log_p = F.log_softmax(z.flatten(2) / tau, dim=2)
        K = z.shape[1]
        rows = []
        for i in range(K):
            row = []
            for j in range(K):
                row.append((log_p[:, i].exp() * (log_p[:, i] - log_p[:, j])).sum(-1))
            rows.append(torch.stack(row, dim=1))
        return F.normalize(torch.stack(rows, dim=1), dim=2)

    return ((matrix(zs) - matrix(zt.detach()))**2).mean()


def icsd_official_loop(zs, zt, tau=1.0):
    """The official AICSD code's loop: KLDivLoss('batchmean') over class pairs i <= j, softmax
    over the height axis, one matrix per batch (written here for any number of classes)."""
    kl = torch.nn.KLDivLoss(reduction='batchmean')

    def matrix(z):
        p = F.softmax(z / tau, dim=2)
        K = z.shape[1]
        m = torch.empty(K, K, dtype=z.dtype, device=z.device)
        for i in range(K):
            for j in range(i, K):
                m[i, j] = m[j, i] = kl(p[:, i], p[:, j])
        return F.normalize(m, dim=1)

    return ((matrix(zs) - matrix(zt.detach()))**2).mean() / zs.shape[0]


def csd_pair_loop(zs, zt, tau=4.0):
    def matrix(z):
        q = F.normalize(F.softmax(F.avg_pool2d(z, 2, ceil_mode=True).flatten(2) / tau, dim=2),
                        dim=2)
        K = z.shape[1]
        return torch.stack([torch.stack([(q[:, i] * q[:, j]).sum(-1) for j in range(K)], 1)
                            for i in range(K)], 1)

    return ((matrix(zs) - matrix(zt.detach()))**2).mean()


NAIVE = {
    'PixelFeatureSimilarityLoss': pfs_cosine_mse,
    'PixelFeatureSimilarityLoss/softmax_kl': pfs_softmax_kl,
    'AffinityLoss/paper': affinity,
    'AffinityLoss/torchdistill': affinity_channel_loop,
    'InterClassSimilarityLoss': icsd_pair_loop,
    'InterClassSimilarityLoss/official': icsd_official_loop,
    'CategorySimilarityLoss': csd_pair_loop,
}
