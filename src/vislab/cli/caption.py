"""`vislab caption train|sample`: train a registered captioner; caption images with it."""

from __future__ import annotations

import os
from pathlib import Path

from vislab.captioning.captioners import CAPTIONERS, train_captioner
from vislab.cli import arguments as valid

TRAIN_DESCRIPTION = (
    "Train a captioner on a folder in the course's coco_captioning layout. Writes OUT/last.pt "
    "every epoch and every --checkpoint-every, OUT/best.pt (best validation loss), "
    "OUT/history.json, OUT/loss_curve.png and OUT/run.json; an existing run is continued only "
    "with --resume (same settings and data; --epochs may grow). SIGTERM/SIGINT save and stop."
)


def _train(args) -> None:
    options = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "device": args.device,
        "resume": args.resume,
        "max_train": args.max_train,
        "progress": True,
        "checkpoint_every": args.checkpoint_every,
    }
    optional = {
        "learning_rate": args.learning_rate,
        "lr_decay": args.lr_decay,
        "blas_threads": args.blas_threads,
    }
    options.update({key: value for key, value in optional.items() if value is not None})
    result = train_captioner(args.model, args.data, args.out, **options)
    if os.environ.get("RANK", "0") != "0":
        return  # under torchrun only rank 0 reports
    history = result.history
    if history.get("val_loss"):
        print(f"final validation loss: {history['val_loss'][-1]:.4f}")
    print(result.best_checkpoint)
    print(Path(args.out) / "loss_curve.png")


def _sample(args) -> None:
    from vislab.captioning.sample_gallery import write_caption_gallery

    out = write_caption_gallery(
        args.checkpoint,
        args.data,
        args.out,
        split=args.split,
        num=args.num,
        beam_size=args.beam_size,
        max_length=args.max_length,
        seed=args.seed,
        allow_network=args.allow_network,
    )
    print(out)


def register(groups) -> None:
    train = groups["caption"].add_parser(
        "train", help="train an RNN, LSTM or Transformer captioner", description=TRAIN_DESCRIPTION
    )
    models = ", ".join(f"{name}: {entry.description}" for name, entry in CAPTIONERS.items())
    train.add_argument("--model", choices=sorted(CAPTIONERS), default="rnn", help=models)
    train.add_argument(
        "--data",
        help="coco_captioning folder (default: $VISLAB_COCO_DIR)",
    )
    train.add_argument("--epochs", type=valid.positive_int, default=10)
    train.add_argument("--batch-size", type=valid.positive_int, default=100)
    train.add_argument("--learning-rate", type=valid.learning_rate, help="default: the model's own")
    train.add_argument(
        "--lr-decay",
        type=valid.decay_factor,
        help="per-epoch decay (rnn, lstm; default 0.95)",
    )
    train.add_argument(
        "--blas-threads",
        type=valid.positive_int,
        help="numpy BLAS threads (rnn, lstm; 1 suits busy machines)",
    )
    train.add_argument(
        "--max-train", type=valid.positive_int, help="subsample this many training captions"
    )
    train.add_argument("--seed", type=valid.seed, default=0)
    train.add_argument(
        "--device", type=valid.device, default="cpu", help="cpu or cuda (transformer only)"
    )
    train.add_argument("--out", type=valid.output_folder, required=True, help="output folder")
    train.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    train.add_argument(
        "--checkpoint-every",
        type=valid.checkpoint_every,
        default="5min",
        help="also write OUT/last.pt within an epoch this often: 30s, 5min, 1h or 200it",
    )
    train.set_defaults(handler=_train)

    sample = groups["caption"].add_parser(
        "sample",
        help="caption images with a trained checkpoint",
        description="Caption --num images of a split and write a PNG grid or an HTML page "
        "with the generated and the ground-truth captions.",
    )
    sample.add_argument(
        "--checkpoint", type=valid.existing_file, required=True, help="best.pt or last.pt of a run"
    )
    sample.add_argument(
        "--data",
        help="coco_captioning folder (default: $VISLAB_COCO_DIR)",
    )
    sample.add_argument("--split", choices=["train", "val"], default="val")
    sample.add_argument("--num", type=valid.positive_int, default=8)
    sample.add_argument("--beam-size", type=valid.beam_size, default=3)
    sample.add_argument(
        "--max-length",
        type=valid.positive_int,
        help="longest caption in words (default: 30, or a Transformer's max_length if shorter)",
    )
    sample.add_argument("--seed", type=valid.seed, default=0, help="which images are drawn")
    sample.add_argument(
        "--allow-network",
        action="store_true",
        help="fetch images whose URLs are http(s) (5 s and 32 MiB each); else placeholders",
    )
    sample.add_argument(
        "--out",
        type=valid.output_file_with_suffix(".png", ".html"),
        default="captions.png",
        help="output .png or .html file",
    )
    sample.set_defaults(handler=_sample)
