"""`wilddeblur deblur`: photos and videos in, deblurred files out (audio kept)."""

import json
import subprocess
import sys

import numpy as np
import torch
from skimage.io import imread, imsave

from wilddeblur.checkpoint import save_atomic
from wilddeblur.models import DeblurNet


def identity_checkpoint(path):
    """An untrained DeblurNet returns its input (zero-initialised residual layers)."""
    save_atomic({"arch": "DeblurNet", "model": DeblurNet().state_dict(), "step": 0}, path)
    return path


def deblur(*args):
    return subprocess.run([sys.executable, "-m", "wilddeblur", "deblur", *map(str, args)],
                          capture_output=True, text=True)


def test_images_and_folders(tmp_path):
    ckpt = identity_checkpoint(tmp_path / "model.pt")
    photos = tmp_path / "photos"
    photos.mkdir()
    img = np.random.default_rng(0).integers(0, 256, (30, 45, 3), dtype=np.uint8)
    imsave(photos / "a.png", img)
    imsave(photos / "b.png", img[:20, :21])
    res = deblur(photos, "-o", tmp_path / "out", "--checkpoint", ckpt, "--device", "cpu",
                 "--tile", "16")
    assert res.returncode == 0, res.stderr
    np.testing.assert_array_equal(imread(tmp_path / "out" / "a.png"), img)
    assert imread(tmp_path / "out" / "b.png").shape == (20, 21, 3)


def test_video_keeps_frames_size_and_audio(tmp_path):
    src = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=64x48:rate=30:duration=0.5", "-f", "lavfi", "-i",
                    "sine=duration=0.5", "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", str(src)], check=True)
    ckpt = identity_checkpoint(tmp_path / "model.pt")
    res = deblur(src, "-o", tmp_path / "out", "--checkpoint", ckpt, "--device", "cpu")
    assert res.returncode == 0, res.stderr
    out = tmp_path / "out" / "clip.mp4"
    info = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(out)],
        capture_output=True, text=True, check=True).stdout)["streams"]
    video = next(s for s in info if s["codec_type"] == "video")
    assert (video["width"], video["height"], video["nb_read_frames"]) == (64, 48, "15")
    assert any(s["codec_type"] == "audio" for s in info)


def test_missing_input_is_named(tmp_path):
    ckpt = identity_checkpoint(tmp_path / "model.pt")
    res = deblur(tmp_path / "nope.jpg", "-o", tmp_path / "out", "--checkpoint", ckpt)
    assert res.returncode != 0
    assert "nope.jpg: no such file or folder" in res.stderr


def test_identity_checkpoint_loads_with_weights_only(tmp_path):
    ckpt = identity_checkpoint(tmp_path / "m.pt")
    assert set(torch.load(ckpt, weights_only=True)) == {"arch", "model", "step"}
