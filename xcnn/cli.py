"""The ``xcnn`` command: ``xcnn train``, ``xcnn evaluate``, ``xcnn predict``, ``xcnn info``.

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
import os
import sys
import time

import numpy as np

from . import __version__
from . import backend as B
from . import datasets, optimizers, zoo
from .callbacks import Callback
from .models import atomic_write, load_model

CHECKPOINT = "checkpoint.safetensors"
FINAL = "model.safetensors"
# images per evaluation batch: measured fastest on the CPU (10,000 MNIST test images in
# 0.35 s at 200, 0.44 s at 1000, whose window matrices no longer fit the cache)
EVAL_BATCH = 200


class _EpochCheckpoint(Callback):
    """Saves model + optimizer state + epoch counter + history after every epoch."""

    def __init__(self, path, history_so_far):
        self.path = path
        self.history = {k: list(v) for k, v in history_so_far.items()}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        self.model.save(self.path, extra={"epoch": epoch + 1, "history": self.history})


def _load_split(args):
    (x, y), (xt, yt) = datasets.load_data(args.dataset)
    if args.limit:
        x, y, xt, yt = x[: args.limit], y[: args.limit], xt[: args.limit], yt[: args.limit]
    return (datasets.prepare_images(x, args.dtype), y.reshape(-1).astype(np.int64),
            datasets.prepare_images(xt, args.dtype), yt.reshape(-1).astype(np.int64))


def _optimizer(args, steps):
    """The optimizer the train options describe; ``steps`` is the length of the whole run."""
    config = optimizers.get(args.optimizer).get_config()
    learning_rate = config["learning_rate"] if args.lr is None else args.lr
    if args.lr_schedule == "cosine":
        learning_rate = optimizers.CosineDecay(learning_rate, steps).get_config()
    return optimizers.get({**config, "learning_rate": learning_rate, "weight_decay": args.weight_decay or None})


def cmd_train(args):
    os.makedirs(args.out, exist_ok=True)
    started = time.perf_counter()
    x, y, xt, yt = _load_split(args)
    steps = args.epochs * -(-len(x) // args.batch_size)  # optimizer steps in the whole run
    checkpoint = os.path.join(args.out, CHECKPOINT)
    history, first_epoch = {}, 0
    if args.resume:
        if not os.path.exists(checkpoint):
            sys.exit(f"--resume: no checkpoint at {checkpoint}; train without --resume first")
        model = load_model(checkpoint, backend=args.backend, device=args.device)
        first_epoch = model.saved_extra.get("epoch", 0)
        history = model.saved_extra.get("history", {})
        if isinstance(model.optimizer.learning_rate, optimizers.CosineDecay):
            # a resumed run may be longer than the first one (--epochs): stretch the cosine to it
            model.optimizer.learning_rate.decay_steps = steps
        print(f"Resuming from {checkpoint} after epoch {first_epoch}")
    else:
        model = zoo.get(args.model, input_shape=x.shape[1:], classes=int(y.max()) + 1, augment=args.augment,
                        backend=args.backend, device=args.device, dtype=args.dtype, seed=args.seed)
        model.compile(_optimizer(args, steps),
                      "sparse_categorical_crossentropy", ["accuracy"])
    model.summary()
    print(f"Training {args.model} on {args.dataset}: {len(x)} train / {len(xt)} test images, backend "
          f"{model.backend} ({B.device_description(model.backend, model.device)}), {model.dtype}, "
          f"batch {args.batch_size}, {args.epochs} epochs")
    try:
        result = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, initial_epoch=first_epoch,
                           validation_data=(xt, yt), validation_batch_size=EVAL_BATCH, verbose=1 if args.progress else 2,
                           seed=args.seed + first_epoch,
                           callbacks=[_EpochCheckpoint(checkpoint, history)])
    except KeyboardInterrupt:
        print(f"\nInterrupted. The last finished epoch is saved in {checkpoint}; "
              f"continue with: xcnn train --resume --out {args.out}", file=sys.stderr)
        return 130
    for key, values in result.history.items():
        history.setdefault(key, []).extend(values)
    loss, accuracy = model.evaluate(xt, yt, batch_size=EVAL_BATCH)
    total = time.perf_counter() - started
    model.save(os.path.join(args.out, FINAL), extra={"epoch": args.epochs, "history": history})
    atomic_write(os.path.join(args.out, "history.json"), json.dumps(history, indent=1).encode())
    print(f"Test accuracy: {accuracy * 100:.2f} % (loss {loss:.4f}); total time {total:.1f} s")
    try:
        from . import plot

        plot.plot_history(history, to_file=os.path.join(args.out, "history.png"))
        plot.plot_misclassified(model, xt, yt, to_file=os.path.join(args.out, "misclassified.png"))
        print(f"Wrote {args.out}/history.png, {args.out}/misclassified.png and {args.out}/{FINAL}")
    except ImportError as exc:
        print(f"Skipped the pictures: {exc}")
    return 0


def cmd_evaluate(args):
    model = load_model(args.model_file, backend=args.backend, device=args.device)
    args.dtype = model.dtype
    _, _, xt, yt = _load_split(args)
    if model.loss is None:
        model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    loss, accuracy = model.evaluate(xt, yt, batch_size=EVAL_BATCH)
    print(f"{args.dataset} test: accuracy {accuracy * 100:.2f} %, loss {loss:.4f} ({len(xt)} images)")
    return 0


def _read_image(path, shape):
    """An image file (.npy or .png/.jpg) as one ``(1, *shape)`` float input in [0, 1]."""
    if path.endswith(".npy"):
        img = np.load(path, allow_pickle=False).astype(np.float64)
        if img.max() > 1.0:
            img = img / 255.0
    else:
        try:
            from PIL import Image
        except ImportError:
            raise SystemExit('reading PNG/JPEG needs pillow: pip install "xcnn[plot]"') from None
        pic = Image.open(path).convert("L" if shape[-1] == 1 else "RGB").resize((shape[1], shape[0]))
        img = np.asarray(pic, dtype=np.float64) / 255.0
        if shape[-1] == 1 and img.mean() > 0.5:
            img = 1.0 - img  # dark digit on light paper -> MNIST's light digit on black
    img = img.reshape(shape) if img.size == np.prod(shape) else None
    if img is None:
        raise SystemExit(f"{path}: cannot be shaped to the model's input {shape}")
    return img[None]


def cmd_predict(args):
    model = load_model(args.model_file, backend=args.backend, device=args.device)
    x = _read_image(args.image, model.input_shape[1:]).astype(model.dtype)
    probs = model.predict(x)[0]
    best = int(np.argmax(probs))
    print(f"predicted class: {best} (probability {probs[best]:.4f})")
    for i in np.argsort(probs)[::-1][:3]:
        print(f"  {int(i)}: {probs[i]:.4f}")
    return 0


def cmd_info(args):
    print(f"xcnn {__version__}")
    for name in B.BACKENDS:
        if B.is_available(name):
            print(f"  {name:<17} available  {B.device_description(name)}")
        else:
            why = f" ({B.cuda_status()[1]})" if name == "cupy" else ""
            print(f"  {name:<17} not available{why}")
    print(f"default backend: {B.get_backend()} (set XCNN_BACKEND or xcnn.set_backend)")
    print(f"data: $XCNN_DATA_DIR={os.environ.get('XCNN_DATA_DIR', '(unset)')}, cache {datasets.cache_dir()}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="xcnn", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def device_arg(p):
        p.add_argument("--device", default=None,
                       help="the backend's device: cuda, cuda:1 (torch), 0 (cupy's GPU id); default: the backend's")

    def data_args(p):
        p.add_argument("--dataset", default="mnist", choices=sorted(datasets.SPECS), help="data set (default mnist)")
        p.add_argument("--backend", default=None, choices=list(B.BACKENDS),
                       help="array backend (default: $XCNN_BACKEND or numpy)")
        device_arg(p)
        p.add_argument("--limit", type=int, default=None, metavar="N",
                       help="use only the first N training and N test images (a quick run)")

    train = sub.add_parser("train", help="train a network (default: the article's MNIST run)",
                           description=__doc__.split("\n\n")[1])
    train.add_argument("--model", default="seed", choices=["seed", "lecture", "lenet", "vgg"],
                       help="seed = the article's net (default); lecture; lenet; vgg (for cifar10)")
    data_args(train)
    train.add_argument("--epochs", type=int, default=30, help="default 30")
    train.add_argument("--batch-size", type=int, default=100, help="default 100")
    train.add_argument("--optimizer", default="adam", choices=list(optimizers.NAMES), help="default adam")
    train.add_argument("--lr", type=float, default=None, help="(initial) learning rate (default: the optimizer's)")
    train.add_argument("--lr-schedule", default="cosine", choices=["cosine", "constant"],
                       help="cosine: the rate follows a half cosine to 0 over the run (default); constant")
    train.add_argument("--weight-decay", type=float, default=0.0, help="decoupled weight decay (default 0)")
    train.add_argument("--augment", type=int, default=2, metavar="PIXELS",
                       help="shift training images by up to PIXELS each way (default 2; 0 = no augmentation)")
    train.add_argument("--dtype", default="float32", choices=["float32", "float64"], help="default float32")
    train.add_argument("--seed", type=int, default=0, help="seeds weights and shuffling (default 0)")
    train.add_argument("--out", default="xcnn-run", help="folder for the model, checkpoint and plots")
    train.add_argument("--resume", action="store_true",
                       help="continue from OUT/checkpoint.safetensors with its model and optimizer (a larger "
                            "--epochs stretches a cosine schedule to the new length)")
    train.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="test accuracy of a saved model")
    evaluate.add_argument("model_file")
    data_args(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    predict = sub.add_parser("predict", help="classify one image (.png, .jpg or .npy)")
    predict.add_argument("model_file")
    predict.add_argument("image")
    predict.add_argument("--backend", default=None, choices=list(B.BACKENDS))
    device_arg(predict)
    predict.set_defaults(func=cmd_predict)

    info = sub.add_parser("info", help="version, backends and their devices")
    info.set_defaults(func=cmd_info)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if getattr(args, "backend", None) and not B.is_available(args.backend):
        print(f"backend {args.backend!r} is not available here; available: {B.available()}", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"xcnn {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
