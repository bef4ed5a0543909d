"""ONNX Runtime against PyTorch eager on this machine's CPU, both networks of the demo, at
1280×720 and at the demo's 427×240, measured in one run: milliseconds per image (whole image,
batch 1, the path of ``wilddeblur deblur --tile 0``) and the largest difference of the 8-bit
outputs.

    python benchmarks/onnx_runtime.py [--threads 2] [--repeats 5]

Weights are random but not neutral (the zero-initialised layers are drawn too, so the network
changes the picture); the input is skimage's astronaut photo resized. The two backends run in
turn, each repeat, and the median is printed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from skimage import data
from skimage.transform import resize

from wilddeblur.deploy.onnx_export import OPSET, export_onnx
from wilddeblur.deploy.onnx_runtime import OnnxNetwork
from wilddeblur.engine.checkpoint import save_atomic
from wilddeblur.evaluation.inference import deblur_array
from wilddeblur.evaluation.metrics import to_uint8
from wilddeblur.models.registry import ModelSpec

NETWORKS = {  # the demo's widths (config.yaml)
    "DeblurNet x0.125": ModelSpec("deblurnet", {"width": 0.125}),
    "NAFNet 16, 1-1-1-4": ModelSpec("nafnet", {"width": 16, "enc_blocks": [1, 1, 1, 4],
                                               "middle_blocks": 1, "dec_blocks": [1, 1, 1, 1]}),
}
SIZES = [(720, 1280), (240, 427)]  # (H, W)


def random_network(spec: ModelSpec) -> torch.nn.Module:
    """The network with every parameter that starts at zero drawn small, BatchNorm statistics
    drawn too."""
    torch.manual_seed(0)
    net = spec.build()
    with torch.no_grad():
        for p in net.parameters():
            if not p.any():
                p.normal_(0, 0.02)
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 2)
    return net.eval()


def timed(fn, image: np.ndarray) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    out = fn(image)
    return (time.perf_counter() - t0) * 1000, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cpu = torch.device("cpu")
    print(f"# CPU, {args.threads} thread(s) each; torch {torch.__version__}, onnxruntime "
          f"{onnxruntime.__version__}, opset {OPSET}; median of {args.repeats} after a warm-up")
    print("| network | size | PyTorch ms/image | ONNX Runtime ms/image | PyTorch / ONNX Runtime "
          "| largest 8-bit difference | 8-bit values that differ | network's change to the "
          "input (mean, levels) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in NETWORKS.items():
            net = random_network(spec)
            ckpt, onnx_file = Path(tmp) / "model.pt", Path(tmp) / f"{spec.arch}.onnx"
            save_atomic({"model": net.state_dict(), "arch": spec.arch,
                         "arch_params": dict(spec.params)}, ckpt)
            export_onnx(ckpt, onnx_file)
            backends = {"torch": net, "onnx": OnnxNetwork(onnx_file, "cpu", args.threads)}
            for h, w in SIZES:
                image = np.rint(resize(data.astronaut(), (h, w)) * 255).astype(np.uint8)
                ms: dict[str, list[float]] = {k: [] for k in backends}
                outs = {}
                for k in range(args.repeats + 1):
                    for key, model in backends.items():
                        t, outs[key] = timed(lambda im, m=model: deblur_array(m, im, cpu), image)
                        if k:
                            ms[key].append(t)
                a, b = to_uint8(outs["torch"]).astype(int), to_uint8(outs["onnx"]).astype(int)
                t_torch, t_onnx = statistics.median(ms["torch"]), statistics.median(ms["onnx"])
                print(f"| {name} | {w}×{h} | {t_torch:.0f} | {t_onnx:.0f} | "
                      f"{t_torch / t_onnx:.2f}× | {np.abs(a - b).max()} | "
                      f"{(a != b).sum()} of {a.size} | {np.abs(a - image).mean():.1f} |")


if __name__ == "__main__":
    main()
