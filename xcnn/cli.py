"""The ``xcnn`` command: ``xcnn train``, ``xcnn evaluate``, ``xcnn predict``, ``xcnn export``, ``xcnn info``.

`xcnn train` with no options is the article's run: MNIST, conv 6@7x7 -> ReLU -> max-pool 2 ->
Dense 100 -> Dense 50 -> softmax, batch 100, Adam, 30 epochs, validated on the test set; to
reach the article's 99 % it shifts training images by up to 2 pixels (--augment 2) and
lets Adam's learning rate follow a cosine to 0 (--lr-schedule cosine). `--augment 0
--lr-schedule constant` is the article's schedule to the letter (about 98.7 %, see
docs/results.md).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import __version__
from . import backend as B
from . import datasets, distribution, optimizers, zoo
from .callbacks import Callback, TerminateOnNaN
from .models import atomic_write, load_model
from .ops import _parallel, native

CHECKPOINT = "checkpoint.safetensors"
FINAL = "model.safetensors"
HISTORY = "history.json"
# images per evaluation batch: measured fastest on the CPU (10,000 MNIST test images in
# 0.35 s at 200, 0.44 s at 1000, whose window matrices no longer fit the cache)
EVAL_BATCH = 200
# how often the divergence guard reads the loss: every 20 batches keeps a GPU from waiting
# on the host each step, and stops a diverged run at most 19 batches late (nothing is saved
# from it)
NAN_CHECK_EVERY = 20

# The options that define a training run, with their defaults. A checkpoint records them, so
# that `--resume` continues the same run; of these only --epochs (train longer) and
# --backend (where it runs) may differ from the checkpoint's.
RUN_DEFAULTS = {
    "model": "seed",
    "dataset": "mnist",
    "limit": None,
    "epochs": 30,
    "batch_size": 100,
    "optimizer": "adam",
    "lr": None,
    "lr_schedule": "cosine",
    "weight_decay": 0.0,
    "augment": 2,
    "dtype": "float32",
    "seed": 0,
    "backend": None,
}
RESUME_MAY_CHANGE = ("epochs", "backend")


class UsageError(Exception):
    """A command line that cannot run as given (exit code 2, as argparse's own errors).

    Examples:
        >>> from xcnn.cli import main
        >>> main(["train", "--resume", "--overwrite"])  # the sentence goes to stderr
        2
    """


class _EpochCheckpoint(Callback):
    """Saves model + optimizer state + epoch counter + history + the run's options after every
    epoch whose loss and weights are finite; a diverged epoch is never saved (it stops the run,
    so the checkpoint keeps the last good epoch)."""

    def __init__(self, path, history_so_far, options):
        self.path = path
        self.options = options
        self.history = {k: list(v) for k, v in history_so_far.items()}
        self.saved_epochs = 0  # checkpoints written by this run
        self.diverged_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        if not math.isfinite(logs.get("loss", 0.0)) or not _weights_finite(self.model):
            self.diverged_epoch = epoch
            self.model.stop_training = True
            return
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        self.model.save(self.path, extra=_run_extra(epoch + 1, self.history, self.options))
        self.saved_epochs += 1


def _weights_finite(model):
    return all(np.isfinite(w).all() for w in model.get_weights())


def _strict(history):
    """History with every non-finite number as None: strict JSON (no NaN/Infinity tokens)."""
    return {
        k: [v if isinstance(v, (int, float)) and math.isfinite(v) else None for v in values]
        for k, values in history.items()
    }


def _run_extra(epoch, history, options):
    return {"epoch": epoch, "history": _strict(history), "options": options}


class _EpochSeed(Callback):
    """Restarts the random streams (shuffle; dropout and augmentation per rank) from the run's
    seed and the epoch number, so that ``--resume`` after epoch k trains epoch k+1 exactly as an
    uninterrupted run does, on one rank or on K."""

    def __init__(self, seed):
        self.seed = seed

    def on_epoch_begin(self, epoch, logs=None):
        epoch_seed = int(np.random.SeedSequence([self.seed % 2**32, epoch]).generate_state(1)[0])
        distribution.seed_streams(self.model, epoch_seed)


def _load_split(args):
    (x, y), (xt, yt) = datasets.load_data(args.dataset)
    if args.limit:
        x, y, xt, yt = x[: args.limit], y[: args.limit], xt[: args.limit], yt[: args.limit]
    return (
        datasets.prepare_images(x, args.dtype),
        y.reshape(-1).astype(np.int64),
        datasets.prepare_images(xt, args.dtype),
        yt.reshape(-1).astype(np.int64),
    )


def _optimizer(args, steps):
    """The optimizer the train options describe; ``steps`` is the length of the whole run."""
    config = optimizers.get(args.optimizer).get_config()
    learning_rate = config["learning_rate"] if args.lr is None else args.lr
    if args.lr_schedule == "cosine":
        learning_rate = optimizers.CosineDecay(learning_rate, steps).get_config()
    return optimizers.get({**config, "learning_rate": learning_rate, "weight_decay": args.weight_decay or None})


def _flag(name):
    return "--" + name.replace("_", "-")


def _train_flags():
    """``{dest: argparse action}`` of `xcnn train`'s options: the rules a saved run option obeys."""
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {action.dest: action for action in commands.choices["train"]._actions}


def _saved_value(checkpoint, key, value, action):
    """A run option read from ``checkpoint``, checked as its command-line flag checks it."""
    if value is None and RUN_DEFAULTS[key] is None:
        return None  # limit, lr, backend: unset
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = str(value)
        try:
            parsed = action.type(text) if action.type is not None else text
        except argparse.ArgumentTypeError as exc:
            reason = str(exc)
        else:
            if action.choices is None or parsed in action.choices:
                return parsed
            reason = f"must be one of {', '.join(map(str, action.choices))}"
    elif action.choices is not None:
        reason = f"must be one of {', '.join(map(str, action.choices))}"
    else:
        reason = f"must be a {getattr(action.type, '__name__', 'text')}"
    raise ValueError(
        f"{checkpoint} holds the run option {key} = {value!r}, which {_flag(key)} refuses ({reason}); "
        "the checkpoint is damaged or not xcnn's: start a new run with --overwrite"
    )


def _saved_run(checkpoint, extra):
    """``(epochs done, history, options or None)`` from a checkpoint's ``extra``, each checked:
    a damaged or foreign checkpoint is refused with a sentence naming the key, not trusted."""

    def refuse(key, value, wanted):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise ValueError(f"{checkpoint} holds {key} = {shown}; a checkpoint's {key} must be {wanted}")

    if not isinstance(extra, dict):
        refuse("extra", extra, "a dict with epoch, history and options")
    epoch = extra.get("epoch", 0)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        refuse("epoch", epoch, "a whole number >= 0 (the epochs done)")
    history = extra.get("history", {})
    number = (int, float, type(None))
    if not isinstance(history, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, number) and not isinstance(x, bool) for x in v)
        for k, v in history.items()
    ):
        refuse("history", history, "a dict of lists of numbers (or null), one list per metric")
    if history and any(len(values) != epoch for values in history.values()):
        lengths = ", ".join(f"{k}: {len(v)}" for k, v in history.items())
        raise ValueError(
            f"{checkpoint} holds a history with {lengths} values but epoch = {epoch}; a checkpoint's history "
            "must hold one value per epoch done for each metric"
        )
    options = extra.get("options")
    if options is None:
        return epoch, history, None
    if not isinstance(options, dict):
        refuse("options", options, f"a dict of the run's options ({', '.join(RUN_DEFAULTS)})")
    unknown = sorted(map(str, set(options) - set(RUN_DEFAULTS)))
    if unknown:
        raise ValueError(
            f"{checkpoint} holds the run option {unknown[0]}, which xcnn train does not have (its options: "
            f"{', '.join(RUN_DEFAULTS)}); the checkpoint is damaged or not xcnn's: start a new run with --overwrite"
        )
    flags = _train_flags()
    return epoch, history, {key: _saved_value(checkpoint, key, value, flags[key]) for key, value in options.items()}


def _resolve_run_options(args, saved):
    """The run's options: the checkpoint's (``saved``) under ``--resume``, else the defaults,
    overridden by the flags given. A flag that contradicts the checkpoint is a UsageError."""
    given = {k: getattr(args, k) for k in RUN_DEFAULTS if hasattr(args, k)}  # absent when not given
    if saved is None:
        return {**RUN_DEFAULTS, **given}
    for key, value in given.items():
        if key not in RESUME_MAY_CHANGE and key in saved and saved[key] != value:
            raise UsageError(
                f"--resume: {_flag(key)} {value} contradicts the checkpoint's {_flag(key)} {saved[key]}; "
                f"drop {_flag(key)} to continue the saved run, or start a new run with --overwrite"
            )
    return {**RUN_DEFAULTS, **saved, **given}


RUN_FILES = (CHECKPOINT, FINAL, HISTORY, "history.png", "misclassified.png")  # what --overwrite replaces


def _file_in_the_way(path):
    """The nearest existing folder above ``path`` that is a file (so ``path`` cannot be made), or None."""
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    return None if os.path.isdir(parent) else parent


def _prepare_out(out, resume, overwrite):
    """Check that ``out`` can take this run and create it; nothing in it is deleted here (see
    `_clear_old_run`: --overwrite deletes the old run only once the new one is ready to start)."""
    if not out:
        raise UsageError("--out must name a folder for the run, got an empty string")
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out} is a file, not a folder; choose a folder for the run")
    blocker = _file_in_the_way(out)
    if blocker is not None:
        raise ValueError(f"--out {out} cannot be made: {blocker} is a file, not a folder")
    existing = [name for name in (CHECKPOINT, FINAL, HISTORY) if os.path.exists(os.path.join(out, name))]
    if resume and overwrite:
        raise UsageError("--resume continues the run in --out and --overwrite replaces it: give one of them")
    if existing and not resume and not overwrite:
        raise UsageError(
            f"--out {out} already holds a run ({', '.join(existing)}); continue it with --resume, "
            "replace it with --overwrite, or choose another --out"
        )
    os.makedirs(out, exist_ok=True)
    # fail now, not after the first epoch, when the folder cannot be written
    with tempfile.TemporaryFile(dir=out, prefix=".tmp-xcnn-probe-"):
        pass


def _clear_old_run(out):
    """--overwrite: delete the old run's files, once every check has passed and the new model is built."""
    for name in RUN_FILES:
        path = os.path.join(out, name)
        if os.path.lexists(path):
            os.remove(path)


def cmd_train(args: argparse.Namespace) -> int:
    """`xcnn train`: train a zoo model on a data set, checkpointing every epoch in `args.out`.

    Writes `checkpoint.safetensors` after every finite epoch, then `model.safetensors`,
    `history.json` and (with matplotlib) `history.png` and `misclassified.png`. Under
    `--distributed` each MPI rank trains its part of every batch and rank 0 alone writes.

    Args:
        args: The parsed command line of `xcnn train` (see `build_parser`).

    Returns:
        The exit code: 0 done, 1 diverged (the checkpoint keeps the last finite epoch), 130
        interrupted.

    Raises:
        UsageError: If `--out` cannot take the run, `--resume` has no checkpoint or too few
            `--epochs`, or `--augment` is not smaller than the images.
        ValueError: If `--resume` finds a checkpoint whose epoch, history or run options are not
            what xcnn writes (each option is checked as its flag is).

    Examples:
        >>> from xcnn.cli import build_parser, cmd_train
        >>> args = build_parser().parse_args(["train", "--epochs", "1", "--limit", "100"])
        >>> args.func is cmd_train, args.epochs, args.limit
        (True, 1, 100)
    """
    if args.distributed:  # launched as mpiexec -n K python -m mpi4py -m xcnn train --distributed
        if getattr(args, "backend", None):  # absent unless given (a resumed run may take the checkpoint's)
            B.set_backend(args.backend)  # with cupy, DataParallel gives each rank of a node its own GPU
        distribution.set_distribution(distribution.DataParallel())
    chief = distribution.rank() == 0
    say = print if chief else (lambda *a, **k: None)  # rank 0 alone prints and draws
    started = time.perf_counter()
    if chief:  # one rank checks, clears and creates --out
        _prepare_out(args.out, args.resume, args.overwrite)
    checkpoint = os.path.join(args.out, CHECKPOINT)
    history: dict[str, list[float]] = {}
    first_epoch, resumed, saved = 0, None, None
    if args.resume:
        if not os.path.exists(checkpoint):
            raise UsageError(f"--resume: no checkpoint at {checkpoint}; train without --resume first")
        resumed = load_model(checkpoint, backend=getattr(args, "backend", None), device=args.device)
        extra: dict[str, Any] = getattr(resumed, "saved_extra", {})  # load_model sets it
        first_epoch, history, saved = _saved_run(checkpoint, extra)
        if saved is None:
            print(
                f"{checkpoint} does not record its run's options (an older xcnn wrote it): "
                "the flags given now are used",
                file=sys.stderr,
            )
    options = _resolve_run_options(args, saved)
    if resumed is not None and options["backend"] and options["backend"] != resumed.backend:
        if B.is_available(options["backend"]):
            resumed.to(options["backend"])  # the checkpoint's backend, as the run started
        else:
            print(
                f"the checkpoint's backend {options['backend']!r} is not available here; continuing on {resumed.backend}",
                file=sys.stderr,
            )
    vars(args).update(options)
    if args.resume and args.epochs <= first_epoch:
        raise UsageError(
            f"--resume: the checkpoint has {first_epoch} of the run's {args.epochs} epochs done; "
            f"give --epochs more than {first_epoch} to train longer"
        )
    x, y, xt, yt = _load_split(args)
    if not args.resume and args.augment >= min(x.shape[1:3]):
        raise UsageError(f"--augment {args.augment} must be smaller than the images ({x.shape[1]}x{x.shape[2]})")
    steps = args.epochs * -(-len(x) // args.batch_size)  # optimizer steps in the whole run
    classes = datasets.SPECS[args.dataset].classes  # the data set's, not counted from a prefix of its labels
    if resumed is not None:  # --resume
        _check_input_fits(checkpoint, resumed, args.dataset, x)
        model = resumed
        schedule = model.optimizer.learning_rate_schedule if model.optimizer is not None else None
        if isinstance(schedule, optimizers.CosineDecay):
            # a resumed run may be longer than the first one (--epochs): stretch the cosine to it
            schedule.decay_steps = steps
        say(f"Resuming from {checkpoint} after epoch {first_epoch}")
    else:
        model = zoo.get(
            args.model,
            input_shape=x.shape[1:],
            classes=classes,
            augment=args.augment,
            backend=args.backend,
            device=args.device,
            dtype=args.dtype,
            seed=args.seed,
        )
        model.compile(_optimizer(args, steps), "sparse_categorical_crossentropy", ["accuracy"])
    options["backend"] = model.backend
    model.summary(print_fn=say)
    say(
        f"Training {args.model} on {args.dataset}: {len(x)} train / {len(xt)} test images, backend "
        f"{model.backend} ({B.device_description(model.backend, model.device)}), {model.dtype}, "
        f"batch {args.batch_size}, {args.epochs} epochs"
        + (f", {distribution.size()} ranks" if args.distributed else "")
    )
    if chief and args.overwrite:  # every check passed and the model is built: replace the old run now
        _clear_old_run(args.out)
    guard = TerminateOnNaN(check_every=NAN_CHECK_EVERY)
    saver = _EpochCheckpoint(checkpoint, history, options)
    try:
        # a diverging run would print NumPy's overflow warnings every step: the guard reports it once
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result = model.fit(
                x,
                y,
                batch_size=args.batch_size,
                epochs=args.epochs,
                initial_epoch=first_epoch,
                validation_data=(xt, yt),
                validation_batch_size=EVAL_BATCH,
                verbose=1 if args.progress else 2,
                seed=args.seed + first_epoch,
                callbacks=[_EpochSeed(args.seed), guard, saver],
            )
    except KeyboardInterrupt:
        done = first_epoch + saver.saved_epochs
        if done and os.path.exists(checkpoint):
            print(
                f"\nInterrupted. Epoch {done} of {args.epochs} is saved in {checkpoint}; "
                f"continue with: xcnn train --resume --epochs {args.epochs} --out {shlex.quote(args.out)}",
                file=sys.stderr,
            )
        else:
            print("\nInterrupted before the first epoch finished; nothing was saved.", file=sys.stderr)
        return 130
    diverged = guard.stopped_epoch if guard.terminated else saver.diverged_epoch
    if diverged is not None:
        epoch = diverged
        kept = first_epoch + saver.saved_epochs
        what = (
            f"the checkpoint {checkpoint} keeps epoch {kept}, the last with a finite loss"
            if kept
            else "no epoch finished with a finite loss, so nothing was saved"
        )
        print(
            f"xcnn train: training diverged in epoch {epoch + 1} (the loss or the weights became NaN or "
            f"infinite) and was stopped; {what}. Try a smaller --lr.",
            file=sys.stderr,
        )
        return 1
    for key, values in result.history.items():
        history.setdefault(key, []).extend(values)
    loss, accuracy = model.evaluate(xt, yt, batch_size=EVAL_BATCH)
    total = time.perf_counter() - started
    model.save(os.path.join(args.out, FINAL), extra=_run_extra(args.epochs, history, options))
    ranks = distribution.distribution()
    if not chief:
        if ranks is not None:  # always, on a rank other than 0
            ranks.barrier()  # rank 0 writes the history and the pictures
        return 0
    distribution.set_distribution(None)  # rank 0 alone from here on (the pictures call predict)
    atomic_write(os.path.join(args.out, HISTORY), json.dumps(_strict(history), indent=1, allow_nan=False).encode())
    print(f"Test accuracy: {accuracy * 100:.2f} % (loss {loss:.4f}); total time {total:.1f} s")
    try:
        import matplotlib.pyplot as plt

        from . import plot

        for figure in (
            plot.plot_history(history, to_file=os.path.join(args.out, "history.png")),
            plot.plot_misclassified(model, xt, yt, to_file=os.path.join(args.out, "misclassified.png")),
        ):
            plt.close(figure)  # written; pyplot would otherwise keep it for the life of the process
        print(f"Wrote {args.out}/history.png, {args.out}/misclassified.png and {args.out}/{FINAL}")
    except ImportError as exc:
        print(f"Skipped the pictures: {exc}")
    if ranks is not None:
        ranks.barrier()
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """`xcnn evaluate`: the test-set accuracy and loss of a saved model, printed.

    Args:
        args: The parsed command line of `xcnn evaluate` (see `build_parser`).

    Returns:
        The exit code, 0.

    Examples:
        >>> from xcnn.cli import build_parser, cmd_evaluate
        >>> args = build_parser().parse_args(["evaluate", "m.safetensors", "--dataset", "fashion_mnist"])
        >>> args.func is cmd_evaluate, args.model_file, args.dataset
        (True, 'm.safetensors', 'fashion_mnist')
    """
    model = load_model(args.model_file, backend=args.backend, device=args.device)
    args.dtype = model.dtype
    _, _, xt, yt = _load_split(args)
    _check_input_fits(args.model_file, model, args.dataset, xt)
    # the test set has integer labels: judge any saved model by them (its optimizer is unused)
    model.compile(model.optimizer or "adam", "sparse_categorical_crossentropy", ["accuracy"])
    loss, accuracy = model.evaluate(xt, yt, batch_size=EVAL_BATCH)
    print(f"{args.dataset} test: accuracy {accuracy * 100:.2f} %, loss {loss:.4f} ({len(xt)} images)")
    return 0


def _check_input_fits(model_file, model, dataset, images):
    """Refuse a saved model whose input is not the data set's image shape, naming both."""
    shape = model.input_shape
    if shape is not None and tuple(shape[1:]) != tuple(images.shape[1:]):
        raise ValueError(
            f"{model_file} takes images of shape {tuple(shape[1:])}, but the {dataset} images are "
            f"{tuple(images.shape[1:])}; give the --dataset the model was trained on"
        )


def _read_image(path, shape):
    """An image file (.npy or .png/.jpg) as one ``(1, *shape)`` float input in [0, 1].

    A .npy array must have the model's input shape ``shape``, or ``(1, *shape)``, or ``shape[:-1]``
    for a one-channel model; integers 0..255 and floats holding whole numbers 0..255 are 8-bit
    pixels (divided by 255), floats in [0, 1] are taken as they are, bools are 0 and 1; anything
    else is refused (see docs/cli.md)."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder; give one image file (.png, .jpg or .npy)")
    if path.endswith(".npy"):
        img = _npy_pixels(path, shape)
    else:
        if len(shape) != 3 or shape[-1] not in (1, 3):
            raise ValueError(
                f"{path}: the model's input {shape} is not a grey or colour picture (H, W, 1 or 3); "
                "give its input as a .npy array"
            )
        try:
            from PIL import Image
        except ImportError:
            raise UsageError('reading PNG/JPEG needs pillow: pip install "xcnn[plot]"') from None
        try:
            with warnings.catch_warnings():
                # PIL only warns between MAX_IMAGE_PIXELS and twice that: refuse those too
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path) as pic:
                    pic = pic.convert("L" if shape[-1] == 1 else "RGB").resize((shape[1], shape[0]))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ValueError(f"{path} is too large an image to decode safely ({exc})") from None
        except Image.UnidentifiedImageError:
            raise ValueError(f"{path} is not an image PIL can read (.png, .jpg, ...) nor a .npy array") from None
        except (OSError, SyntaxError, ValueError) as exc:  # PIL reports damaged files with all of these
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # a file-system error (missing, unreadable): the handler names the file
            raise ValueError(f"{path} is a damaged or unsupported image: {exc}") from None
        img = np.asarray(pic, dtype=np.float64) / 255.0
        if shape[-1] == 1 and img.mean() > 0.5:
            img = 1.0 - img  # dark digit on light paper -> MNIST's light digit on black
    return img.reshape(shape)[None]


NPY_MAGIC = b"\x93NUMPY"


def _npy_pixels(path, shape):
    """A ``.npy`` image for a model taking ``shape``: floats in [0, 1], read as the module's
    rules say (see `_read_image`, docs/cli.md); anything else is refused, never reshaped or
    rescaled silently."""
    with open(path, "rb") as f:
        head = f.read(len(NPY_MAGIC))
    if head != NPY_MAGIC:
        kind = " (a .npz archive: save one array with numpy.save)" if head.startswith(b"PK") else ""
        raise ValueError(f"{path} is not a .npy array{kind}; give an image saved with numpy.save, or a .png/.jpg")
    try:
        img = np.load(path, mmap_mode="r", allow_pickle=False)  # the header first: no huge read
    except (ValueError, EOFError) as exc:
        raise ValueError(f"{path} is not a readable .npy array: {exc}") from None
    shapes = [tuple(shape), (1, *shape)]
    if len(shape) == 3 and shape[-1] == 1:
        shapes.append(tuple(shape[:-1]))  # a grey picture (H, W) for a one-channel model
    if img.shape not in shapes or img.dtype.kind not in "buif":
        accepted = ", ".join(map(str, shapes[:-1])) + f" or {shapes[-1]}"
        raise ValueError(
            f"{path} holds a {img.dtype} array of shape {img.shape}; the model takes one image of "
            f"numbers (bool, integer or float) shaped {accepted}"
        )
    dtype, kind = img.dtype, img.dtype.kind
    img = np.asarray(img, dtype=np.float64)
    if not np.isfinite(img).all():
        raise ValueError(f"{path} holds NaN or infinite values; an image needs finite pixel values")
    if kind == "b":
        return img  # black and white: False 0, True 1
    low, high = float(img.min()), float(img.max())
    if kind == "f" and low >= 0.0 and high <= 1.0:
        return img
    if low >= 0.0 and high <= 255.0 and (kind in "iu" or (img == np.round(img)).all()):
        return img / 255.0  # 8-bit pixel values
    raise ValueError(
        f"{path} holds {dtype} values from {low:g} to {high:g}; a .npy image "
        "takes floats in [0, 1], or whole numbers 0..255 (8-bit pixels, integer or float) that are divided by 255"
    )


def cmd_predict(args: argparse.Namespace) -> int:
    """`xcnn predict`: a saved model's class for one image (.png, .jpg or .npy) and its top 3.

    Args:
        args: The parsed command line of `xcnn predict` (see `build_parser`).

    Returns:
        The exit code, 0.

    Raises:
        ValueError: If the image cannot be read or does not fit the model's input (shape or
            pixel range), or the model is not a classifier (one vector of class scores per image).
        UsageError: If a PNG/JPEG is given and pillow is not installed.

    Examples:
        >>> import numpy as np
        >>> from xcnn.cli import build_parser, cmd_predict
        >>> from xcnn.layers import Dense, Flatten, Input
        >>> from xcnn.models import Sequential
        >>> Sequential([Input((2, 2, 1)), Flatten(), Dense(3, activation="softmax")]).save("m.safetensors")
        >>> np.save("x.npy", np.zeros((2, 2, 1)))
        >>> code = cmd_predict(build_parser().parse_args(["predict", "m.safetensors", "x.npy"]))
        1/1 ...
        predicted class: 0 (probability 0.3333)
          ...: 0.3333
          ...: 0.3333
          ...: 0.3333
        >>> code
        0
    """
    model = load_model(args.model_file, backend=args.backend, device=args.device)
    shape = model.input_shape
    if shape is None:
        raise ValueError(f"{args.model_file} holds a model without an input shape: it cannot tell what image it takes")
    _check_class_scores(args.model_file, model.output_shape)
    x = _read_image(args.image, shape[1:]).astype(model.dtype)
    out = model.predict(x)
    _check_class_scores(args.model_file, (None, *out.shape[1:]))
    scores = np.asarray(out[0], dtype=np.float64)
    best = int(np.argmax(scores))
    probabilities = bool(
        np.isfinite(scores).all() and scores.min() >= 0 and scores.max() <= 1 and abs(scores.sum() - 1) <= 1e-3
    )
    what = "probability" if probabilities else "score"  # a model ending in logits, or one sigmoid
    print(f"predicted class: {best} ({what} {scores[best]:.4f})")
    for i in np.argsort(scores)[::-1][:3]:
        print(f"  {int(i)}: {scores[i]:.4f}")
    return 0


def _check_class_scores(model_file, output_shape):
    """Refuse a model whose output is not one vector of class scores per image."""
    if output_shape is None:
        return  # not known before predicting: checked on the prediction
    if not isinstance(output_shape, tuple) or len(output_shape) != 2 or not output_shape[1]:
        raise ValueError(
            f"{model_file} holds a model whose output has shape {output_shape}; xcnn predict needs a "
            "classifier, whose output is one vector of class scores per image, shape (None, classes)"
        )


def cmd_export(args: argparse.Namespace) -> int:
    """Convert a saved model: ``.onnx`` exports the inference graph, ``.keras`` and
    ``.safetensors`` save it in that format.

    Args:
        args: The parsed command line of `xcnn export` (see `build_parser`).

    Returns:
        The exit code, 0.

    Raises:
        ValueError: If `args.out` ends in none of `.onnx`, `.keras`, `.safetensors`.

    Examples:
        >>> from xcnn.cli import build_parser, cmd_export
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> Sequential([Input((3,)), Dense(2)]).save("m.safetensors")
        >>> cmd_export(build_parser().parse_args(["export", "m.safetensors", "m.keras"]))
        Wrote m.keras
        0
    """
    if os.path.isdir(args.out):
        raise IsADirectoryError(
            f"{args.out} is a folder; give the file to write (OUT.onnx, OUT.keras or OUT.safetensors)"
        )
    blocker = _file_in_the_way(args.out)
    if blocker is not None:
        raise ValueError(f"cannot write {args.out}: {blocker} is a file, not a folder")
    model = load_model(args.model_file, backend="numpy")
    if args.out.lower().endswith(".onnx"):
        model.export(args.out, format="onnx")
    elif args.out.lower().endswith((".keras", ".safetensors")):
        model.save(args.out)
    else:
        raise ValueError(f"cannot tell the format from {args.out!r}: end it with .onnx, .keras or .safetensors")
    print(f"Wrote {args.out}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """`xcnn info`: xcnn's version, each backend (available or why not, its device), whether torch's own
    kernels run on its CPU, and the data folder.

    Args:
        args: The parsed command line of `xcnn info` (see `build_parser`).

    Returns:
        The exit code, 0.

    Raises:
        ValueError: After printing the rest, if `$XCNN_BACKEND` names no usable backend.

    Examples:
        >>> from xcnn.cli import build_parser, cmd_info
        >>> code = cmd_info(build_parser().parse_args(["info"]))  # doctest: +ELLIPSIS
        xcnn ...
          numpy ...
        >>> code
        0
    """
    print(f"xcnn {__version__}")
    for name in B.BACKENDS:
        if B.is_available(name):
            print(f"  {name:<17} available  {B.device_description(name)}")
        else:
            why = f" ({B.cuda_status()[1]})" if name == "cupy" else ""
            print(f"  {name:<17} not available{why}")
    try:
        default, problem = B.get_backend(), None
    except ValueError as exc:  # $XCNN_BACKEND names no usable backend: say so after the rest
        default, problem = "none", exc
    print(f"default backend: {default} (set XCNN_BACKEND or xcnn.set_backend)")
    if B.is_available("torch"):
        state = "on" if native.enabled_by_environment() else "off (XCNN_NATIVE=0)"
        print(f"torch's own kernels on the CPU (conv, pooling, batch norm, ReLU, softmax): {state}")
    print(f"data: $XCNN_DATA_DIR={os.environ.get('XCNN_DATA_DIR', '(unset)')}, cache {datasets.cache_dir()}")
    if problem is not None:
        raise problem
    return 0


def _whole_number(minimum):
    """An argparse type: a whole number >= ``minimum``, with a sentence when not."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"must be {'a positive whole number' if minimum == 1 else f'a whole number >= {minimum}'}, got {value}"
            )
        return value

    parse.__name__ = "whole number"
    return parse


def _real_number(minimum, inclusive):
    """An argparse type: a finite number above (or at, ``inclusive``) ``minimum``."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not math.isfinite(value) or value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(
                f"must be a finite number {'>=' if inclusive else '>'} {minimum:g}, got {text}"
            )
        return value

    parse.__name__ = "number"
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The `xcnn` command line: its subcommands `train`, `evaluate`, `predict`, `export` and
    `info`, each setting `func` to its `cmd_*` function.

    Returns:
        The parser; `parse_args` exits (code 2) on a bad command line, as argparse does.

    Examples:
        >>> from xcnn.cli import build_parser
        >>> args = build_parser().parse_args(["export", "m.safetensors", "m.onnx"])
        >>> args.command, args.func.__name__, args.out
        ('export', 'cmd_export', 'm.onnx')
    """
    parser = argparse.ArgumentParser(
        prog="xcnn",
        description="Train, test and use convolutional networks on small image data sets (MNIST, "
        "Fashion-MNIST, CIFAR-10): xcnn train, xcnn evaluate, xcnn predict, xcnn export, xcnn info. "
        "'xcnn COMMAND --help' describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"xcnn {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        # also accepted after the command; SUPPRESS keeps `xcnn --debug train` working
        p.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="show the Python traceback of an error"
        )

    def device_arg(p):
        # not a run option: a resumed run may continue on another device
        p.add_argument(
            "--device",
            default=None,
            help="the backend's device: cuda, cuda:1 (torch), 0 (cupy's GPU id); default: the backend's",
        )

    def data_args(p, train=False):
        # train: defaults are filled in later (from RUN_DEFAULTS, or from the checkpoint under
        # --resume), so that the options given on the command line can be told apart
        default = (lambda name: argparse.SUPPRESS) if train else RUN_DEFAULTS.get
        p.add_argument(
            "--dataset", default=default("dataset"), choices=sorted(datasets.SPECS), help="data set (default mnist)"
        )
        p.add_argument(
            "--backend",
            default=default("backend"),
            choices=list(B.BACKENDS),
            help="array backend (default: $XCNN_BACKEND or numpy)",
        )
        device_arg(p)
        p.add_argument(
            "--limit",
            type=_whole_number(1),
            default=default("limit"),
            metavar="N",
            help="use only the first N training and N test images (a quick run)",
        )

    train = sub.add_parser(
        "train",
        help="train a network (default: the article's MNIST run)",
        description=__doc__.split("\n\n")[1].replace("`", ""),
        argument_default=argparse.SUPPRESS,
    )
    common(train)
    train.add_argument(
        "--model",
        choices=["seed", "lecture", "lenet", "vgg"],
        help="seed = the article's net (default); lecture; lenet; vgg (for cifar10)",
    )
    data_args(train, train=True)
    train.add_argument("--epochs", type=_whole_number(1), help="default 30")
    train.add_argument("--batch-size", type=_whole_number(1), help="default 100")
    train.add_argument("--optimizer", choices=list(optimizers.NAMES), help="default adam")
    train.add_argument(
        "--lr", type=_real_number(0.0, inclusive=False), help="(initial) learning rate (default: the optimizer's)"
    )
    train.add_argument(
        "--lr-schedule",
        choices=["cosine", "constant"],
        help="cosine: the rate follows a half cosine to 0 over the run (default); constant",
    )
    train.add_argument(
        "--weight-decay", type=_real_number(0.0, inclusive=True), help="decoupled weight decay (default 0)"
    )
    train.add_argument(
        "--augment",
        type=_whole_number(0),
        metavar="PIXELS",
        help="shift training images by up to PIXELS each way (default 2; 0 = no augmentation)",
    )
    train.add_argument("--dtype", choices=["float32", "float64"], help="default float32")
    train.add_argument("--seed", type=_whole_number(0), help="seeds weights and shuffling (default 0)")
    train.add_argument("--out", default="xcnn-run", help="folder for the model, checkpoint and plots")
    train.add_argument(
        "--resume",
        action="store_true",
        default=False,
        help="continue the run in OUT from its checkpoint, with the options it was started with "
        "(a larger --epochs trains longer and stretches a cosine schedule to the new length; "
        "--backend may change)",
    )
    train.add_argument(
        "--overwrite",
        action="store_true",
        default=False,
        help="replace the run in OUT (its model, checkpoint, history and pictures are deleted once the new "
        "run's options, data and model have been checked, before its first epoch)",
    )
    train.add_argument("--no-progress", dest="progress", action="store_false", default=True, help="no progress bar")
    train.add_argument(
        "--distributed",
        action="store_true",
        default=False,
        help="data-parallel over the MPI ranks: mpiexec -n K python -m mpi4py -m xcnn train "
        "--distributed (--batch-size is the global batch; rank 0 prints and writes)",
    )
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="test accuracy of a saved model")
    common(evaluate)
    evaluate.add_argument("model_file")
    data_args(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    predict = sub.add_parser("predict", help="classify one image (.png, .jpg or .npy)")
    common(predict)
    predict.add_argument("model_file")
    predict.add_argument("image")
    predict.add_argument("--backend", default=None, choices=list(B.BACKENDS))
    device_arg(predict)
    predict.set_defaults(func=cmd_predict)

    export = sub.add_parser(
        "export", help="convert a saved model to ONNX (.onnx), Keras 3 (.keras) or xcnn (.safetensors)"
    )
    export.add_argument("model_file", help="an xcnn .safetensors model or a Keras 3 .keras file")
    export.add_argument("out", help="OUT.onnx, OUT.keras or OUT.safetensors")
    common(export)
    export.set_defaults(func=cmd_export)

    info = sub.add_parser("info", help="version, backends and their devices")
    common(info)
    info.set_defaults(func=cmd_info)
    return parser


def _describe(exc):
    """One line for an error: the file and the OS's words for an OSError, else its message."""
    if isinstance(exc, OSError) and exc.strerror:
        names = [n for n in (exc.filename, exc.filename2) if n]
        return f"{' -> '.join(map(str, names))}: {exc.strerror}" if names else exc.strerror
    if isinstance(exc, MemoryError):
        return f"out of memory{': ' + str(exc) if str(exc) else ''}; try a smaller --batch-size or --limit"
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to read"
    return str(exc) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``xcnn`` command; returns its exit code (0 done, 1 failed, 2 bad usage, 130
    interrupted). Errors are one line on stderr; ``--debug`` shows the traceback instead.

    Args:
        argv: The arguments after `xcnn` (default: `sys.argv[1:]`).

    Returns:
        The exit code.

    Examples:
        >>> from xcnn.cli import main
        >>> from xcnn.layers import Dense, Input
        >>> from xcnn.models import Sequential
        >>> Sequential([Input((3,)), Dense(2)]).save("m.safetensors")
        >>> main(["export", "m.safetensors", "copy.safetensors"])
        Wrote copy.safetensors
        0
        >>> main(["export", "m.safetensors", "m.txt"])  # the reason goes to stderr
        1
    """
    args = build_parser().parse_args(argv)
    code = _run(args)
    if code and getattr(args, "distributed", False):
        _abort_job(code)
    return code


def _abort_job(code):
    """Under mpiexec, a rank that stops with an error ends the whole job: the other ranks would
    otherwise wait in a collective forever (what ``python -m mpi4py`` does for an exception)."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.COMM_WORLD.Get_size() > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        # the error line is in the pipe to mpiexec's proxy; MPI_Abort makes mpiexec tear the job
        # down at once, and a line its proxy had not forwarded yet was lost (1 run in ~40): give
        # it a moment to pass the line on
        time.sleep(1.0)
        mpi.COMM_WORLD.Abort(code)
        os._exit(code)  # MPICH's MPI_Abort may return before mpiexec ends the job: go no further


def _check_device(backend, device):
    """Refuse a --device that ``backend`` does not have here (or that holds no data, as torch's meta)."""
    usable = B.devices(backend)
    try:
        found = B.device_of(backend, device)
    except (ValueError, TypeError):
        found = None
    if found is None or not any(B.same_device(found, B.device_of(backend, name)) for name in usable):
        raise UsageError(f"--device {device} is not a device of backend {backend} here; available: {', '.join(usable)}")


def _run(args):
    """``args.func(args)`` with every known error as one line on stderr and an exit code."""
    debug = getattr(args, "debug", False)
    where = f"xcnn {args.command}"
    try:
        # read when the ops run; checked here so that a bad value stops the job before it starts
        native.enabled_by_environment()
        _parallel.workers(B.namespace("numpy"))  # $XCNN_THREADS
        backend = getattr(args, "backend", None)
        if backend and not B.is_available(backend):
            raise UsageError(f"backend {backend!r} is not available here; available: {B.available()}")
        if getattr(args, "device", None) is not None:
            _check_device(backend or B.get_backend(), args.device)
        return args.func(args)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"\n{where}: interrupted", file=sys.stderr)
        return 130
    except UsageError as exc:
        if debug:
            raise
        print(f"{where}: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError, MemoryError, RecursionError) as exc:
        if debug:
            raise
        print(f"{where}: {_describe(exc)}", file=sys.stderr)
        return 1
    except ImportError as exc:  # an optional extra not installed: its message says which to install
        if debug:
            raise
        print(f"{where}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: still no traceback unless asked for
        if debug:
            raise
        print(
            f"{where}: internal error ({type(exc).__name__}: {exc}); run again with --debug for the "
            "traceback, and please report it",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
