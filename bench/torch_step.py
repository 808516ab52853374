"""PyTorch's ResNet-20 training step (../shared/bench/torch_resnet20_step.py, run as it is) at a precision,
then the interpreter's peak RSS.
usage: /usr/bin/python3 torch_step.py <fp32|bf16> <path/to/torch_resnet20_step.py> [batch] [threads] [steps]
bf16 runs the whole step under torch.autocast('cpu', dtype=torch.bfloat16), PyTorch's CPU mixed precision:
convolutions and linear layers in bfloat16 with float32 accumulation, batch norm, loss and SGD in float32
(autocast leaves the backward and optimizer ops, which it has no rule for, as they are).
prints the script's line (img_per_s=<N>) and then peak_rss_kib=<N>"""
import contextlib, resource, runpy, sys
import torch

precision, script = sys.argv[1], sys.argv[2]
if precision not in ('fp32', 'bf16'):
    sys.exit(f'precision must be fp32 or bf16, got {precision}')
sys.argv = sys.argv[2:]
autocast = torch.autocast('cpu', dtype=torch.bfloat16) if precision == 'bf16' else contextlib.nullcontext()
with autocast:
    runpy.run_path(script, run_name='__main__')
print('peak_rss_kib=%d' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
