"""`wilddeblur deblur`: photos and videos in, deblurred files out (audio kept).

The checkpoint is a DeblurNet whose residual layers are set to fixed random values, so that the
network really changes the picture; the expected outputs are the network applied here, directly
(clamped and rounded to 8 bits), to the decoded inputs."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from skimage.io import imread, imsave

from wilddeblur.engine.checkpoint import save_atomic
from wilddeblur.models.deblurnet_arch import DeblurNet


@pytest.fixture(scope="module")
def filter_net() -> DeblurNet:
    """A DeblurNet that changes images by about 20 levels of 255, fixed by its seed."""
    torch.manual_seed(0)
    net = DeblurNet()
    for m in (net.n1.out, net.n2.out, net.n3.out):
        torch.nn.init.normal_(m.weight, std=0.02)
        torch.nn.init.normal_(m.bias, std=0.2)
    return net.eval()


@pytest.fixture(scope="module")
def ckpt(filter_net, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "model.pt"
    save_atomic({"arch": "DeblurNet", "model": filter_net.state_dict(), "step": 0}, path)
    return path


def expected(net: DeblurNet, img: np.ndarray) -> np.ndarray:
    """The network on one uint8 image, as 8 bits (computed here, not by
    wilddeblur.evaluation.inference)."""
    x = torch.from_numpy(np.array(img)).permute(2, 0, 1)[None].float() / 255
    y = net.deblur(x)[0].permute(1, 2, 0).numpy()
    return np.floor(np.clip(y.astype(np.float64), 0, 1) * 255 + 0.5).astype(np.uint8)  # half up


def deblur(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "wilddeblur", "deblur", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def photo(seed, h, w):
    """A smooth random photo-like image (noise blurred), uint8."""
    from scipy.ndimage import gaussian_filter

    noise = np.random.default_rng(seed).random((h, w, 3))
    img = gaussian_filter(noise, (4, 4, 0))
    img = (img - img.min()) / (img.max() - img.min())
    return np.rint(img * 255).astype(np.uint8)


def test_images_and_folders(tmp_path, filter_net, ckpt):
    photos = tmp_path / "photos"
    photos.mkdir()
    a, b = photo(0, 30, 45), photo(1, 20, 21)
    imsave(photos / "a.png", a)
    imsave(photos / "b.png", b)
    res = deblur(photos, "-o", tmp_path / "out", "--checkpoint", ckpt, "--device", "cpu",
                 "--tile", "16")
    assert res.returncode == 0, res.stderr
    for name, img in (("a", a), ("b", b)):
        want = expected(filter_net, img)
        assert np.abs(want.astype(int) - img).mean() > 5  # the network changes the image
        np.testing.assert_array_equal(imread(tmp_path / "out" / "photos" / f"{name}.png"),
                                      want)


def test_two_folders_with_the_same_names_keep_every_output(tmp_path, filter_net, ckpt):
    """blur_gamma/x.png and blur_lin/x.png go to out/blur_gamma/ and out/blur_lin/, a photo
    given directly to out/; the count printed is the count of files there."""
    imgs = {}
    for k, folder in enumerate(("blur_gamma", "blur_lin")):
        (tmp_path / folder).mkdir()
        for j, name in enumerate(("x", "y")):
            imgs[f"{folder}/{name}.png"] = photo(10 * k + j, 12, 16)
            imsave(tmp_path / folder / f"{name}.png", imgs[f"{folder}/{name}.png"])
    imgs["x.png"] = photo(99, 12, 16)
    imsave(tmp_path / "x.png", imgs["x.png"])
    res = deblur("blur_gamma", "blur_lin/", "x.png", "-o", "out", "--checkpoint", ckpt,
                 "--device", "cpu", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("wrote 5 file(s)")
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*")
                  if p.is_file()) == sorted(imgs)
    for rel, img in imgs.items():
        np.testing.assert_array_equal(imread(tmp_path / "out" / rel), expected(filter_net, img))


def test_an_existing_output_is_refused_without_force(tmp_path, filter_net, ckpt):
    img = photo(5, 12, 16)
    imsave(tmp_path / "photo.png", img)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "photo.png").write_bytes(b"keep me")
    res = deblur(tmp_path / "photo.png", "-o", tmp_path / "out", "--checkpoint", ckpt,
                 "--device", "cpu")
    assert res.returncode != 0
    assert res.stderr.strip() == (f"wilddeblur deblur: error: {tmp_path / 'out' / 'photo.png'} "
                                  "exists already; give --force to overwrite, or another -o")
    assert (tmp_path / "out" / "photo.png").read_bytes() == b"keep me"
    res = deblur(tmp_path / "photo.png", "-o", tmp_path / "out", "--checkpoint", ckpt,
                 "--device", "cpu", "--force")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("wrote 1 file(s)")
    np.testing.assert_array_equal(imread(tmp_path / "out" / "photo.png"),
                                  expected(filter_net, img))


def test_two_inputs_with_one_output_are_refused(tmp_path, ckpt):
    (tmp_path / "a").mkdir()
    imsave(tmp_path / "a" / "x.png", photo(0, 8, 8))
    imsave(tmp_path / "a" / "x.jpg", photo(1, 8, 8))
    res = deblur(tmp_path / "a", "-o", tmp_path / "out", "--checkpoint", ckpt, "--force")
    assert res.returncode != 0
    assert "would both be written to" in res.stderr and len(res.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_one_photo_to_a_named_file(tmp_path, filter_net, ckpt):
    img = photo(2, 28, 36)
    imsave(tmp_path / "photo.png", img)
    res = deblur(tmp_path / "photo.png", "-o", tmp_path / "out.png", "--checkpoint", ckpt,
                 "--device", "cpu")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out.png").is_file()
    np.testing.assert_array_equal(imread(tmp_path / "out.png"), expected(filter_net, img))


def test_a_file_name_for_several_inputs_is_refused(tmp_path, ckpt):
    for name in ("a.png", "b.png"):
        imsave(tmp_path / name, photo(0, 8, 8))
    res = deblur(tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "out.png",
                 "--checkpoint", ckpt)
    assert res.returncode != 0
    assert "out.png names a file, but 2 input(s) are given" in res.stderr
    assert not (tmp_path / "out.png").exists()


def test_checkpoint_defaults_to_the_workflows_model(tmp_path, filter_net, ckpt):
    img = photo(3, 24, 24)
    imsave(tmp_path / "photo.png", img)
    res = deblur("photo.png", "-o", "out.png", cwd=tmp_path)
    assert res.returncode != 0
    assert "results/train/DeblurNetWILD/model.pt does not exist" in res.stderr
    model = tmp_path / "results/train/DeblurNetWILD/model.pt"
    model.parent.mkdir(parents=True)
    model.write_bytes(ckpt.read_bytes())
    res = deblur("photo.png", "-o", "out.png", "--device", "cpu", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    np.testing.assert_array_equal(imread(tmp_path / "out.png"), expected(filter_net, img))


def decode(path, w, h) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-fps_mode", "passthrough", "pipe:"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> tuple:
    """6 frames of a smooth picture panning 3 px a frame (lossless FFV1), with AAC audio."""
    src = tmp_path_factory.mktemp("clip") / "clip.mkv"
    base = photo(4, 32, 66)
    frames = np.stack([base[:, 3 * k : 3 * k + 48] for k in range(6)])
    subprocess.run(["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "48x32",
                    "-r", "30", "-i", "pipe:", "-f", "lavfi", "-i", "sine=duration=0.2",
                    "-shortest", "-c:v", "ffv1", "-pix_fmt", "bgr0", "-c:a", "aac", str(src)],
                   input=frames.tobytes(), check=True)
    np.testing.assert_array_equal(decode(src, 48, 32), frames)
    return src, frames


@pytest.mark.parametrize("output", ["out", "out/deblurred.mp4"])
def test_video_frames_are_deblurred_and_audio_kept(tmp_path, filter_net, ckpt, clip, output):
    src, frames = clip
    res = deblur(src, "-o", tmp_path / output, "--checkpoint", ckpt, "--device", "cpu")
    assert res.returncode == 0, res.stderr
    out = tmp_path / output if output.endswith(".mp4") else tmp_path / "out" / "clip.mp4"
    info = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(out)],
        capture_output=True, text=True, check=True).stdout)["streams"]
    video = next(s for s in info if s["codec_type"] == "video")
    assert (video["width"], video["height"], video["nb_read_frames"]) == (48, 32, "6")
    assert any(s["codec_type"] == "audio" for s in info)

    got = decode(out, 48, 32).astype(float)
    want = [expected(filter_net, f).astype(float) for f in frames]
    for k in range(len(frames)):
        err = np.abs(got[k] - want[k]).mean()  # H.264 (crf 16, 4:2:0) is lossy: about 4
        assert err < 8, k
        assert err < np.abs(frames[k] - want[k]).mean() / 4, k  # far closer than the input
        if k:  # and closer to its own frame's output than to the previous one's
            assert err < np.abs(got[k] - want[k - 1]).mean() / 2, k


def test_missing_input_is_named(tmp_path, ckpt):
    res = deblur(tmp_path / "nope.jpg", "-o", tmp_path / "out", "--checkpoint", ckpt)
    assert res.returncode != 0
    assert "nope.jpg: no such file or folder" in res.stderr


def test_checkpoint_loads_with_weights_only(ckpt):
    assert set(torch.load(ckpt, weights_only=True)) == {"arch", "model", "step"}


def streams(path) -> dict:
    info = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json",
                                      str(path)], capture_output=True, text=True,
                                     check=True).stdout)["streams"]
    return {s["codec_type"]: s["codec_name"] for s in info}


def clip_with_audio(folder, name: str, audio_codec: str):
    src = folder / name
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=48x32:rate=10:duration=0.5", "-f", "lavfi", "-i",
                    "sine=duration=0.5", "-c:v", "mjpeg", "-c:a", audio_codec, str(src)],
                   check=True)
    return src


@pytest.mark.parametrize("name,audio_codec", [("pcm.mkv", "pcm_s16le"), ("flac.mkv", "flac"),
                                              ("pcm.avi", "pcm_s16le")])
def test_audio_mp4_cannot_hold_is_encoded_as_aac(tmp_path, ckpt, name, audio_codec):
    src = clip_with_audio(tmp_path, name, audio_codec)
    res = deblur(src, "-o", tmp_path / "out.mp4", "--checkpoint", ckpt, "--device", "cpu")
    assert res.returncode == 0, res.stderr
    assert streams(tmp_path / "out.mp4") == {"video": "h264", "audio": "aac"}


def test_audio_that_cannot_be_written_is_dropped_with_a_warning(tmp_path, ckpt):
    """An ffmpeg that fails whenever audio is asked for: the video is still written."""
    src = clip_with_audio(tmp_path, "clip.mkv", "pcm_s16le")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "ffmpeg").write_text('#!/bin/sh\ncase "$*" in *-c:a*) echo "no audio encoder" >&2; '
                                   f'exit 1;; esac\nexec {shutil.which("ffmpeg")} "$@"\n')
    (bindir / "ffmpeg").chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    res = subprocess.run([sys.executable, "-m", "wilddeblur", "deblur", str(src), "-o",
                          str(tmp_path / "out.mp4"), "--checkpoint", str(ckpt), "--device",
                          "cpu"], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert streams(tmp_path / "out.mp4") == {"video": "h264"}
    assert "clip.mkv: its audio (pcm_s16le) could be neither copied nor encoded" in res.stderr
    assert not list(tmp_path.glob("out.mp4.*"))  # no temp file left
