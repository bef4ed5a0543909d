"""``wilddeblur`` subcommands that take a trained network elsewhere: export-onnx."""

from __future__ import annotations

from pathlib import Path


def cmd_export_onnx(args):
    from wilddeblur.deploy.onnx_export import OPSET, export_onnx

    out = export_onnx(Path(args.checkpoint), Path(args.output), args.force)
    print(f"wrote {out} (opset {OPSET}; input 'blurry' N×3×H×W in [0, 1], any H and W; "
          "output 'sharp', the full-scale image)")


def register(add) -> None:
    sp = add("export-onnx", cmd_export_onnx,
             "Write a trained network as ONNX (dynamic batch, height and width; DeblurNet's "
             "full-scale output only), checked with onnx.checker and against PyTorch with ONNX "
             "Runtime. Needs the deploy extra.")
    sp.add_argument("checkpoint", help="model.pt, or an official NAFNet/BasicSR .pth")
    sp.add_argument("output", help="the .onnx to write")
    sp.add_argument("--force", action="store_true", help="replace an existing OUTPUT")
