"""What EarlyStopping and ModelCheckpoint share: reading and comparing a monitored value."""

from __future__ import annotations


def _improved(mode, monitor):
    if mode == "auto":
        mode = "max" if "acc" in monitor else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return (lambda new, best: new < best) if mode == "min" else (lambda new, best: new > best)


def _monitored(logs, monitor):
    if monitor not in logs:
        raise ValueError(f"monitor {monitor!r} is not in the epoch logs {sorted(logs)}")
    return logs[monitor]
