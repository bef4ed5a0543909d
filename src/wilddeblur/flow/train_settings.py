"""Settings of FlowNetS training on synthetic pairs, importable without PyTorch (the CLI builds
its flags from them, the workflow passes a config section as those flags)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from wilddeblur.flow.synthetic import SyntheticSpec


@dataclass
class FlowTrainSettings:
    """FlowNetPytorch's recipe where it has one (Adam β 0.9/0.999, lr 1e-4, weight decay 4e-4 on
    weights and none on biases, batch 8, lr halved every 100k iterations, div_flow 20, no
    BatchNorm); frame size and motion ranges of the synthetic pairs (``SyntheticSpec``); and
    the end-of-training evaluation (held-out synthetic pairs, demo pairs)."""

    steps: int = 20_000
    batch_size: int = 8
    lr: float = 1e-4
    lr_decay: float = 0.5
    lr_step: int = 100_000
    beta1: float = 0.9
    beta2: float = 0.999
    weight_decay: float = 4e-4
    bias_decay: float = 0.0
    div_flow: float = 20.0
    batch_norm: bool = False
    height: int = 384
    width: int = 512
    max_shift: float = 4.0
    max_rotation: float = 0.5
    max_zoom: float = 0.01
    min_objects: int = 1
    max_objects: int = 3
    max_object_shift: float = 3.0
    max_object_rotation: float = 2.0
    max_object_zoom: float = 0.03
    noise: float = 1.0
    eval_pairs: int = 32
    demo_pairs: int = 8
    checkpoint_every: int = 500
    log_every: int = 10
    workers: int = 2
    device: str = "auto"
    amp: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "lr_step", "checkpoint_every", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("eval_pairs", "demo_pairs", "workers"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.lr <= 0 or self.div_flow <= 0:
            raise ValueError("lr and div_flow must be > 0")
        if self.height < 64 or self.width < 64:
            raise ValueError(f"FlowNetS needs frames of at least 64×64, got "
                             f"{self.height}×{self.width}")
        self.synthetic()  # validates the motion ranges

    def synthetic(self) -> SyntheticSpec:
        """The synthetic-pair settings within these settings."""
        names = {f.name for f in fields(SyntheticSpec)}
        return SyntheticSpec(**{k: v for k, v in asdict(self).items() if k in names})

    # Settings that may change between a run and its resumption without changing the weights
    # already trained (more steps, another evaluation, other logging or workers).
    RESUMABLE_CHANGES = ("steps", "eval_pairs", "demo_pairs", "checkpoint_every", "log_every",
                         "workers", "device")
