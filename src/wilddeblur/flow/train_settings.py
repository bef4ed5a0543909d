"""Settings of FlowNetS training on synthetic pairs, importable without PyTorch (the CLI builds
its flags from them, the workflow passes a config section as those flags)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

from wilddeblur.flow.synthetic import SyntheticSpec


@dataclass
class FlowTrainSettings:
    """FlowNetPytorch's recipe where it has one (Adam β 0.9/0.999, lr 1e-4, weight decay 4e-4 on
    weights and none on biases, batch 8, lr halved every 100k iterations, div_flow 20, no
    BatchNorm); frame size and motion ranges of the synthetic pairs (``synthetic``); and the
    end-of-training evaluation (held-out synthetic pairs, demo pairs). The config section
    ``train_flow`` and the command's flags hold both flat: :meth:`from_flat`, :meth:`flat`."""

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
    synthetic: SyntheticSpec = field(default_factory=SyntheticSpec)
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
        h, w = self.synthetic.height, self.synthetic.width
        if h < 64 or w < 64:
            raise ValueError(f"FlowNetS needs frames of at least 64×64, got {h}×{w}")

    @classmethod
    def from_flat(cls, values: Mapping) -> FlowTrainSettings:
        """From one flat mapping of both kinds of keys (the config section, the flags); an
        unknown key is named."""
        own = {f.name for f in fields(cls)} - {"synthetic"}
        spec = {f.name for f in fields(SyntheticSpec)}
        unknown = sorted(set(values) - own - spec)
        if unknown:
            raise ValueError(f"train_flow: no such key {unknown}")
        return cls(**{k: v for k, v in values.items() if k in own},
                   synthetic=SyntheticSpec(**{k: v for k, v in values.items() if k in spec}))

    def flat(self) -> dict:
        """The settings as one flat dict, as the config section holds them."""
        out = asdict(self)
        return out | out.pop("synthetic")

    # Settings that may change between a run and its resumption without changing the weights
    # already trained (more steps, another evaluation, other logging or workers).
    RESUMABLE_CHANGES = ("steps", "eval_pairs", "demo_pairs", "checkpoint_every", "log_every",
                         "workers", "device")
