/**
 * Wall time per TensorFlow.js kernel on one backend, by wrapping each registered kernel function:
 * what share of a training step each kernel takes. A kernel that runs others through the registry
 * (the wasm training kernels do) is charged for them; they are not counted again on their own.
 */
import * as tf from '@tensorflow/tfjs';

interface KernelTime {
  calls: number;
  ms: number;
}

export class KernelProfile {
  private readonly times = new Map<string, KernelTime>();
  private readonly restore: Array<() => void> = [];
  private depth = 0;

  constructor(backendName: string) {
    for (const config of tf.getKernelsForBackend(backendName)) {
      const original = config.kernelFunc;
      const time = { calls: 0, ms: 0 };
      this.times.set(config.kernelName, time);
      // The registry hands out the config object itself, so patching it reroutes every call.
      config.kernelFunc = (args) => {
        const started = performance.now();
        this.depth++;
        try {
          return original(args);
        } finally {
          this.depth--;
          if (this.depth === 0) {
            time.calls++;
            time.ms += performance.now() - started;
          }
        }
      };
      this.restore.push(() => (config.kernelFunc = original));
    }
  }

  stop(): void {
    for (const undo of this.restore) undo();
  }

  /** Kernels by total time, as markdown table rows; `steps` divides the times into per-step figures. */
  report(steps: number): string {
    const rows = [...this.times].filter(([, t]) => t.calls > 0).sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((sum, [, t]) => sum + t.ms, 0);
    const lines = ['| kernel | calls/step | ms/step | share |', '| --- | --- | --- | --- |'];
    for (const [name, t] of rows) {
      const share = (100 * t.ms) / total;
      if (share < 0.1) continue;
      lines.push(`| ${name} | ${t.calls / steps} | ${(t.ms / steps).toFixed(1)} | ${share.toFixed(1)}% |`);
    }
    lines.push(`| all kernels | | ${(total / steps).toFixed(1)} | 100% |`);
    return lines.join('\n');
  }
}
