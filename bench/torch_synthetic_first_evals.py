"""The `npm start` default job's recipe in PyTorch (ResNet-20 of ../shared/bench/torch_cifar_reference.py):
the project's synthetic data, batch 64, SGD momentum 0.9, wd 1e-4, lr 0.1 with linear warmup over 0.3
epochs then cosine, pad-4 crop + flip, 3 epochs of 32 steps. After each epoch: test loss/acc with the
running statistics (eval mode), and with statistics re-estimated over 16 training batches (precise BN,
what the project's evaluations do). Dump the data first (after npm run build):
  node -e 'const d=require("./dist/libs/data/src"),fs=require("fs");for(const[s,seed,n]of[["train",1,2048],["test",2,512]]){const t=d.generateSyntheticTable({size:n,height:32,width:32,numClasses:10,seed});fs.writeFileSync(`/tmp/syn-${s}-x.bin`,t.images);fs.writeFileSync(`/tmp/syn-${s}-y.bin`,Buffer.from(t.labels.buffer))}'
usage: python3 bench/torch_synthetic_first_evals.py /tmp [peak_lr] [warmup_epochs]"""
import sys, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
d = sys.argv[1]; bn_m = 0.1; peak = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1; warm_epochs = float(sys.argv[3]) if len(sys.argv) > 3 else 0.3
torch.set_num_threads(1)
def load(s, n): return (np.fromfile(f'{d}/syn-{s}-x.bin', np.uint8).reshape(n, 32, 32, 3), np.fromfile(f'{d}/syn-{s}-y.bin', np.int32).astype(np.int64))
xtr, ytr = load('train', 2048); xte, yte = load('test', 512)
mean = xtr.reshape(-1, 3).mean(0) / 255; std = xtr.reshape(-1, 3).std(0) / 255
def tens(x): return ((torch.tensor(x, dtype=torch.float32) / 255 - torch.tensor(mean, dtype=torch.float32)) / torch.tensor(std, dtype=torch.float32)).permute(0, 3, 1, 2).contiguous()
BN = lambda c: nn.BatchNorm2d(c, momentum=bn_m)
class Block(nn.Module):
    def __init__(s, i, o, st):
        super().__init__(); s.c1 = nn.Conv2d(i, o, 3, st, 1, bias=False); s.b1 = BN(o); s.c2 = nn.Conv2d(o, o, 3, 1, 1, bias=False); s.b2 = BN(o)
        s.sc = nn.Sequential() if st == 1 and i == o else nn.Sequential(nn.Conv2d(i, o, 1, st, bias=False), BN(o))
    def forward(s, x): return F.relu(s.b2(s.c2(F.relu(s.b1(s.c1(x))))) + s.sc(x))
class R20(nn.Module):
    def __init__(s):
        super().__init__(); s.c = nn.Conv2d(3, 16, 3, 1, 1, bias=False); s.b = BN(16); L = []; i = 16
        for o, st in [(16, 1), (32, 2), (64, 2)]:
            for k in range(3): L.append(Block(i, o, st if k == 0 else 1)); i = o
        s.L = nn.Sequential(*L); s.fc = nn.Linear(64, 10)
    def forward(s, x): return s.fc(F.adaptive_avg_pool2d(s.L(F.relu(s.b(s.c(x)))), 1).flatten(1))
torch.manual_seed(0); rng = np.random.default_rng(0)
m = R20(); B = 64; spe = len(xtr) // B; epochs = 3; total = epochs * spe; warm = max(1, round(warm_epochs * spe))
opt = torch.optim.SGD(m.parameters(), peak, momentum=0.9, weight_decay=1e-4)
def lr_at(t): return peak * (t + 1) / warm if t < warm else peak * 0.5 * (1 + np.cos(np.pi * (t - warm) / max(1, total - warm)))
def crops(idx):
    xb = np.pad(xtr[idx], ((0, 0), (4, 4), (4, 4), (0, 0))); ox, oy = rng.integers(0, 9, len(idx)), rng.integers(0, 9, len(idx)); fl = rng.random(len(idx)) < 0.5
    return np.stack([xb[i, oy[i]:oy[i] + 32, ox[i]:ox[i] + 32][:, ::-1 if fl[i] else 1] for i in range(len(idx))])
def evaluate(model):
    model.eval()
    with torch.no_grad(): out = model(tens(xte)); return F.cross_entropy(out, torch.tensor(yte)).item(), (out.argmax(1) == torch.tensor(yte)).float().mean().item()
import copy
step = 0
for ep in range(epochs):
    m.train(); perm = rng.permutation(len(xtr)); accs = []
    for b in range(spe):
        idx = perm[b * B:(b + 1) * B]
        for g in opt.param_groups: g['lr'] = lr_at(step)
        out = m(tens(crops(idx))); loss = F.cross_entropy(out, torch.tensor(ytr[idx])); accs.append((out.argmax(1) == torch.tensor(ytr[idx])).float().mean().item())
        opt.zero_grad(); loss.backward(); opt.step(); step += 1
    l, a = evaluate(m)
    p = copy.deepcopy(m)
    for mod in p.modules():
        if isinstance(mod, nn.BatchNorm2d): mod.reset_running_stats(); mod.momentum = None
    p.train()
    with torch.no_grad():
        for b in range(16): p(tens(xtr[perm[b * B:(b + 1) * B]]))
    pl, pa = evaluate(p)
    print(f'epoch {ep + 1} step {step} train acc (last 8 steps) {np.mean(accs[-8:]):.3f} | test running stats: loss {l:.4f} acc {a:.4f} | precise BN: loss {pl:.4f} acc {pa:.4f}', flush=True)
