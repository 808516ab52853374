"""PyTorch's training throughput for bench:gpu, on CUDA: CIFAR ResNet-20 (projection shortcuts, 32x32)
or torchvision-style ResNet-50 (224x224), fp32, channels-last, SGD with momentum.
usage: python3 torch_resnet_gpu_step.py resnet20|resnet50 BATCH [steps=20]
prints one line: img_per_s=<N> device=<name>, or no_cuda=<reason> (and exits 1) when CUDA is unavailable"""
import sys, time
import torch, torch.nn as nn, torch.nn.functional as F

model_name, batch = sys.argv[1], int(sys.argv[2])
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 20
if not torch.cuda.is_available():
    print("no_cuda=torch.cuda.is_available() is False"); sys.exit(1)
torch.backends.cudnn.benchmark = True
torch.backends.cuda.matmul.allow_tf32 = False  # fp32, as the webgpu kernels compute
torch.backends.cudnn.allow_tf32 = False

class Basic(nn.Module):
    def __init__(s, i, o, st):
        super().__init__(); s.c1 = nn.Conv2d(i, o, 3, st, 1, bias=False); s.b1 = nn.BatchNorm2d(o)
        s.c2 = nn.Conv2d(o, o, 3, 1, 1, bias=False); s.b2 = nn.BatchNorm2d(o)
        s.sc = nn.Sequential() if st == 1 and i == o else nn.Sequential(nn.Conv2d(i, o, 1, st, bias=False), nn.BatchNorm2d(o))
    def forward(s, x): return F.relu(s.b2(s.c2(F.relu(s.b1(s.c1(x))))) + s.sc(x))

class Bottleneck(nn.Module):
    def __init__(s, i, w, st):
        super().__init__(); o = 4 * w
        s.c1 = nn.Conv2d(i, w, 1, bias=False); s.b1 = nn.BatchNorm2d(w)
        s.c2 = nn.Conv2d(w, w, 3, st, 1, bias=False); s.b2 = nn.BatchNorm2d(w)
        s.c3 = nn.Conv2d(w, o, 1, bias=False); s.b3 = nn.BatchNorm2d(o)
        s.sc = nn.Sequential() if st == 1 and i == o else nn.Sequential(nn.Conv2d(i, o, 1, st, bias=False), nn.BatchNorm2d(o))
    def forward(s, x):
        h = F.relu(s.b1(s.c1(x))); h = F.relu(s.b2(s.c2(h)))
        return F.relu(s.b3(s.c3(h)) + s.sc(x))

def resnet20():
    layers, i = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
    for o, st in [(16, 1), (32, 2), (64, 2)]:
        for k in range(3): layers.append(Basic(i, o, st if k == 0 else 1)); i = o
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)), 32, 10

def resnet50():
    layers, i = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)], 64
    for w, n, st in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for k in range(n): layers.append(Bottleneck(i, w, st if k == 0 else 1)); i = 4 * w
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)), 224, 1000

model, side, classes = {"resnet20": resnet20, "resnet50": resnet50}[model_name]()
model = model.cuda().to(memory_format=torch.channels_last)
opt = torch.optim.SGD(model.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)
x = torch.randn(batch, 3, side, side, device="cuda").to(memory_format=torch.channels_last)
y = torch.randint(0, classes, (batch,), device="cuda")
def step():
    loss = F.cross_entropy(model(x), y); opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
for _ in range(5): step()
torch.cuda.synchronize(); t = time.time()
for _ in range(steps): step()
torch.cuda.synchronize(); dt = (time.time() - t) / steps
print(f"img_per_s={batch / dt:.1f} device={torch.cuda.get_device_name(0).replace(' ', '_')}")
