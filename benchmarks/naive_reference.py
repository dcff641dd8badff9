"""Naive references, written straight from each formula with loops / explicit P x P matrices.

The tests check every loss against them and the benchmark times the losses against them
(``NAIVE``). They share no code with the rest of mmseg_distill on purpose. Only torch
primitives whose meaning is the definition itself are used (softmax of a vector, interpolate
for the documented resizing).
"""
import math

import torch
import torch.nn.functional as F


def resize_to(x, size):
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


def pixel_kl_terms(zs, zt, tau):
    """List over images of lists of per-pixel KL(p_t || p_s) (python loops over pixels)."""
    zs = resize_to(zs, zt.shape[-2:])
    out = []
    for n in range(zt.shape[0]):
        row = []
        for i in range(zt.shape[2]):
            for j in range(zt.shape[3]):
                pt = torch.softmax(zt[n, :, i, j] / tau, 0)
                ps = torch.softmax(zs[n, :, i, j] / tau, 0)
                kl = sum(pt[k] * (torch.log(pt[k]) - torch.log(ps[k]))
                         for k in range(zt.shape[1]) if pt[k] > 0)
                row.append(kl)
        out.append(row)
    return out


def pixel_kd(zs, zt, tau=1.0, valid=None):
    terms = pixel_kl_terms(zs, zt, tau)
    total, count = 0.0, 0
    for n, row in enumerate(terms):
        for p, kl in enumerate(row):
            if valid is None or valid[n].flatten()[p]:
                total = total + kl
                count += 1
    return tau**2 * total / max(count, 1)


def weighted_soft_imitation(zs, zt, tau=1.0):
    terms = pixel_kl_terms(zs, zt, tau)
    total, count = 0.0, 0
    for row in terms:
        gaps = [float(k.detach()) for k in row]
        mean_gap = sum(gaps) / len(gaps)
        for kl, gap in zip(row, gaps):
            weight = gap / mean_gap if mean_gap > 0 else 0.0
            total = total + weight * kl
            count += 1
    return tau**2 * total / count


def _spatial_softmax(z_k, tau, valid_flat=None):
    flat = z_k.flatten() / tau
    if valid_flat is not None and valid_flat.any():
        probs = torch.zeros_like(flat)
        probs[valid_flat] = torch.softmax(flat[valid_flat], 0)
        return probs
    return torch.softmax(flat, 0)


def category_similarity(zs, zt, tau=4.0, pool=2, normalize=True):
    zs = resize_to(zs, zt.shape[-2:])
    if pool and pool > 1:
        zs = F.avg_pool2d(zs, pool, ceil_mode=True)
        zt = F.avg_pool2d(zt, pool, ceil_mode=True)
    K = zt.shape[1]

    def matrix(z, n):
        rows = []
        for k in range(K):
            q = _spatial_softmax(z[n, k], tau)
            if normalize:
                q = q / math.sqrt(float((q * q).sum()))
            rows.append(q)
        return [[float((rows[a] * rows[b]).sum()) for b in range(K)] for a in range(K)]

    total = 0.0
    for n in range(zt.shape[0]):
        ms, mt = matrix(zs, n), matrix(zt, n)
        total += sum((ms[a][b] - mt[a][b])**2 for a in range(K) for b in range(K)) / K / K
    return total / zt.shape[0]


def inter_class_similarity(zs, zt, tau=1.0, normalize=True, valid=None):
    zs = resize_to(zs, zt.shape[-2:])
    K = zt.shape[1]

    def matrix(z, n):
        v = None if valid is None else valid[n].flatten()
        probs = [_spatial_softmax(z[n, k], tau, v) for k in range(K)]
        m = []
        for a in range(K):
            row = []
            for b in range(K):
                kl = 0.0
                for x in range(probs[a].numel()):
                    pa, pb = float(probs[a][x]), float(probs[b][x])
                    if pa > 0:
                        kl += pa * (math.log(pa) - math.log(pb))
                row.append(kl)
            if normalize:
                norm = math.sqrt(sum(r * r for r in row))
                row = [r / norm if norm > 0 else 0.0 for r in row]
            m.append(row)
        return m

    total, images = 0.0, 0
    for n in range(zt.shape[0]):
        if valid is not None and not valid[n].any():
            continue
        ms, mt = matrix(zs, n), matrix(zt, n)
        total += sum((ms[a][b] - mt[a][b])**2 for a in range(K) for b in range(K)) / K / K
        images += 1
    return total / max(images, 1)


def inter_class_similarity_official(zs, zt, tau=1.0):
    """The official AICSD code's ICSD term, as docs/methods.md describes it: a loop over
    class pairs i <= j with KLDivLoss('batchmean') fed the probability P_i as input and P_j as
    target, P the softmax over the height axis; one symmetric matrix for the whole batch; rows
    L2-normalised; mean squared difference divided by the batch size."""
    zs = resize_to(zs, zt.shape[-2:])
    K, b = zt.shape[1], zt.shape[0]
    kl = torch.nn.KLDivLoss(reduction='batchmean')

    def matrix(z):
        p = torch.softmax(z / tau, dim=2)
        m = [[None] * K for _ in range(K)]
        for i in range(K):
            for j in range(i, K):
                m[i][j] = m[j][i] = kl(p[:, i], p[:, j])
        m = torch.stack([torch.stack(row) for row in m])
        return m / m.norm(dim=1, keepdim=True)

    return ((matrix(zs) - matrix(zt))**2).mean() / b


def pixel_kd_as_kldivloss(zs, zt, tau=1.0):
    """Pixel KD written as the official AICSD code writes it: torch's KLDivLoss with its
    default reduction 'mean' over all b*K*H*W elements (times tau^2, 1 at the code's tau)."""
    zs = resize_to(zs, zt.shape[-2:])
    return tau**2 * torch.nn.KLDivLoss()(F.log_softmax(zs / tau, dim=1),
                                         F.softmax(zt / tau, dim=1))


def pixel_similarity(feats_s, feats_t, pairs='adjacent'):
    size = max((tuple(f.shape[-2:]) for f in feats_t), key=lambda s: s[0] * s[1])

    def attention(f):
        a = resize_to((f**2).mean(1, keepdim=True), size).flatten(1)
        return a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)

    def residuals(feats):
        maps = [attention(f) for f in feats]
        idx = [(a, a + 1) for a in range(len(maps) - 1)] if pairs == 'adjacent' else \
            [(a, b) for a in range(len(maps)) for b in range(a + 1, len(maps))]
        out = []
        for a, b in idx:
            r = maps[b] - maps[a]
            out.append(r / r.norm(dim=1, keepdim=True).clamp_min(1e-12))
        return out

    rs, rt = residuals(feats_s), residuals(feats_t)
    return sum(((a - b)**2).mean() for a, b in zip(rs, rt)) / len(rs)


def _normalized_rows(f):
    rows = f.flatten(2).transpose(1, 2)
    return rows / rows.norm(dim=2, keepdim=True).clamp_min(1e-12)


def pixel_feature_similarity(fs, ft, mode='cosine_mse', tau=1.0):
    fs = resize_to(fs, ft.shape[-2:])
    s, t = _normalized_rows(fs), _normalized_rows(ft)
    a_s = s @ s.transpose(1, 2)  # explicit P x P
    a_t = t @ t.transpose(1, 2)
    if mode == 'cosine_mse':
        return ((a_s - a_t)**2).mean()
    log_q_s = torch.log_softmax(a_s / tau, dim=2)
    q_t = torch.softmax(a_t / tau, dim=2)
    return tau**2 * (q_t * (torch.log(q_t) - log_q_s)).sum(2).mean()


def affinity(fs, ft):
    fs = resize_to(fs, ft.shape[-2:])
    s, t = _normalized_rows(fs), _normalized_rows(ft)
    P = s.shape[1]
    a_s = s @ s.transpose(1, 2) / P
    a_t = t @ t.transpose(1, 2) / P
    return (a_s - a_t).norm(dim=2).mean()


def knowledge_adaptation(fs, ft, p=1):
    """KA's per-position (paper-note) form: mean over positions of the p-norm of the difference
    of the channel vectors, each L2-normalised."""
    fs = resize_to(fs, ft.shape[-2:])
    total, count = 0.0, 0
    for n in range(ft.shape[0]):
        for i in range(ft.shape[2]):
            for j in range(ft.shape[3]):
                e = ft[n, :, i, j]
                c = fs[n, :, i, j]
                d = e / e.norm().clamp_min(1e-12) - c / c.norm().clamp_min(1e-12)
                total = total + d.abs().pow(p).sum().pow(1.0 / p)
                count += 1
    return total / count


def knowledge_adaptation_torchdistill(fs, ft, p=1):
    """torchdistill's KTALoss(p, q=2, reduction='mean') as docs/methods.md describes it: each
    image's flattened map divided by its L2 norm; p = 1: mean over all N*C*H*W elements of the
    absolute difference; otherwise the mean over images of the p-norm of the difference."""
    fs = resize_to(fs, ft.shape[-2:])
    per_image, elements = [], []
    for n in range(ft.shape[0]):
        a = fs[n].flatten()
        b = ft[n].flatten()
        d = a / a.norm() - b / b.norm()
        per_image.append(d.abs().pow(p).sum().pow(1.0 / p))
        elements.append(d.abs())
    if p == 1:
        return torch.cat(elements).sum() / sum(e.numel() for e in elements)
    return sum(per_image) / len(per_image)


def affinity_torchdistill(fs, ft):
    """torchdistill's AffinityLoss(reduction='mean'): per image and channel, the H*W map divided
    by its L2 norm, the Frobenius norm of the difference of the (H*W x H*W) outer products
    divided by H*W, summed over channels, averaged over images."""
    fs = resize_to(fs, ft.shape[-2:])
    hw = ft.shape[2] * ft.shape[3]
    total = 0.0
    for n in range(ft.shape[0]):
        for c in range(ft.shape[1]):
            x = fs[n, c].flatten()
            y = ft[n, c].flatten()
            x = x / x.norm() if x.norm() > 0 else x
            y = y / y.norm() if y.norm() > 0 else y
            total = total + (torch.outer(x, x) - torch.outer(y, y)).norm() / hw
    return total / ft.shape[0]


def pairwise_similarity_skd(fs, ft, scale=0.5):
    """The official AICSD code's pair-wise term (SKD's sim_dis_compute on max-pooled maps):
    kernel = stride = (int(H scale), int(W scale)) of the teacher map, ceil mode; each pooled
    position divided by (its channel L2 norm, detached, + 1e-8); sum over images and position
    pairs of the squared difference of the inner products, / (h w)^2 / N."""
    fs = resize_to(fs, ft.shape[-2:])
    kernel = (int(ft.shape[2] * scale), int(ft.shape[3] * scale))
    pool = torch.nn.MaxPool2d(kernel_size=kernel, stride=kernel, padding=0, ceil_mode=True)

    def similarity(f):
        f = pool(f)
        norm = (f.pow(2).sum(1, keepdim=True) ** 0.5).detach() + 1e-8
        rows = (f / norm).flatten(2)  # (N, C, hw)
        positions = rows.shape[2]
        return [[[sum(rows[n, k, i] * rows[n, k, j] for k in range(rows.shape[1]))
                  for j in range(positions)] for i in range(positions)]
                for n in range(rows.shape[0])], positions

    sim_s, positions = similarity(fs)
    sim_t, _ = similarity(ft)
    total = 0.0
    for n in range(len(sim_t)):
        for i in range(positions):
            for j in range(positions):
                total = total + (sim_t[n][i][j] - sim_s[n][i][j])**2
    return total / positions**2 / ft.shape[0]


def autoencoder_reconstruction(recon, target, code, alpha, code_reduction='batch_sum'):
    """Mean squared reconstruction + alpha * L1 of the code: of the whole batch ('batch_sum',
    torchdistill's z.norm(p=1)) or averaged over images ('image_mean')."""
    mse = ((recon - target)**2).mean()
    l1 = sum(code[n].abs().sum() for n in range(code.shape[0]))
    if code_reduction == 'image_mean':
        l1 = l1 / code.shape[0]
    return mse + alpha * l1


# ---------------------------------------------------------------------------------------------
# The naive algorithms the benchmark times the project's losses against (and checks their values
# with): the explicit P x P forms above, and loops over channels or class pairs as the sources
# compute them (torchdistill's AffinityLoss, the official AICSD code; ICSD with a true KL).


def _resize(fs, ft):
    return resize_to(fs, ft.shape[-2:])


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
    'PixelFeatureSimilarityLoss': pixel_feature_similarity,
    'PixelFeatureSimilarityLoss/softmax_kl':
    lambda fs, ft, tau=1.0: pixel_feature_similarity(fs, ft, 'softmax_kl', tau),
    'AffinityLoss/paper': affinity,
    'AffinityLoss/torchdistill': affinity_channel_loop,
    'InterClassSimilarityLoss': icsd_pair_loop,
    'InterClassSimilarityLoss/official': icsd_official_loop,
    'CategorySimilarityLoss': csd_pair_loop,
}


def dist_segmentation(zs, zt, beta=1.0, gamma=1.0):
    """DIST on segmentation logits as its official code reads them: every pixel of every image
    a sample. Inter-class: for each pixel, 1 - Pearson correlation of the two softmax vectors
    over the classes, averaged over pixels; intra-class: for each class, 1 - Pearson
    correlation of the two columns over all pixels, averaged over classes. Loops over pixels
    and classes, correlation written out."""
    n, k, h, w = zs.shape
    ps, pt = torch.softmax(zs.double(), 1), torch.softmax(zt.double(), 1)
    rows_s = [ps[i, :, y, x] for i in range(n) for y in range(h) for x in range(w)]
    rows_t = [pt[i, :, y, x] for i in range(n) for y in range(h) for x in range(w)]

    def pearson(a, b):
        a, b = a - a.mean(), b - b.mean()
        return (a * b).sum() / (a.norm() * b.norm() + 1e-8)

    inter = sum(1 - pearson(a, b) for a, b in zip(rows_s, rows_t)) / len(rows_s)
    columns_s = torch.stack(rows_s).t()
    columns_t = torch.stack(rows_t).t()
    intra = sum(1 - pearson(columns_s[c], columns_t[c]) for c in range(k)) / k
    return beta * inter + gamma * intra


def channel_wise_divergence(zs, zt, tau=1.0):
    """CWD (Shu et al.) as the fragment states it: for every image and class channel, the
    softmax over positions at tau; KL(teacher || student) summed over positions, times tau^2;
    averaged over images and channels."""
    n, k = zs.shape[:2]
    total = 0.0
    for i in range(n):
        for c in range(k):
            qs = torch.softmax(zs[i, c].double().flatten() / tau, 0)
            qt = torch.softmax(zt[i, c].double().flatten() / tau, 0)
            total += float((qt * (qt.log() - qs.log())).sum()) * tau ** 2
    return total / (n * k)
