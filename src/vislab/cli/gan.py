"""`vislab gan train | sample | eval`: train the course's GANs, draw from them, measure them.

`gan train` runs unchanged under torchrun (DistributedDataParallel; only rank 0 prints and
writes): `torchrun --standalone --nproc-per-node=2 -m vislab gan train ...`.
"""

from __future__ import annotations

from pathlib import Path

from vislab.cli import arguments as valid

COURSE_EPOCHS = {"fc": 10, "dc": 5}


def _train(args) -> int:
    from vislab.gan import GanConfig, load_gan_images, train_gan
    from vislab.run_guard import CheckpointEvery
    from vislab.torch_nn.distributed import init_from_env

    every = CheckpointEvery.parse(args.checkpoint_every)
    config = GanConfig(
        model=args.model,
        loss=args.loss,
        epochs=COURSE_EPOCHS[args.model] if args.epochs is None else args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        show_every=args.show_every,
        num_train=args.num_train,
        seed=args.seed,
        data=args.data,
    )
    images, _ = load_gan_images(args.data, args.data_dir, split="train")
    context = init_from_env(args.device)
    try:
        run = train_gan(
            images, config, args.out, resume=args.resume, progress=True, context=context,
            checkpoint_every=every,
        )  # fmt: skip
    finally:
        context.shutdown()
    if context.is_main:
        print(f"checkpoint: {run.checkpoint}")
        print(f"loss curve: {run.loss_curve}")
        print(f"sample grids: {run.out_dir / 'samples'} ({len(run.grids)} written)")
    return 0


def _sample(args) -> int:
    from vislab.gan.sampling import sample_checkpoint

    checkpoint = Path(args.checkpoint)
    out = Path(args.out) if args.out else checkpoint.parent / f"samples_{args.num}.png"
    for path in sample_checkpoint(
        checkpoint,
        out,
        num=args.num,
        interpolate=args.interpolate,
        seed=args.seed,
        device=args.device,
    ):
        print(path)
    return 0


def _eval(args) -> int:
    from vislab.gan.fid import evaluate_checkpoint

    quality = evaluate_checkpoint(
        args.checkpoint,
        num_samples=args.num_samples,
        data_dir=args.data_dir,
        seed=args.seed,
        device=args.device,
        progress=True,
    )
    rows = quality.rows()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


def _add_common(parser, device_help: str) -> None:
    parser.add_argument("--device", type=valid.device, default="cpu", help=device_help)
    parser.add_argument("--seed", type=valid.seed, default=0, help="random seed (default 0)")


def _register_train(gan) -> None:
    from vislab.gan.data import DATA_SETS, NUM_TRAIN
    from vislab.gan.registry import LOSSES, MODELS

    train = gan.add_parser(
        "train",
        help="train a GAN (checkpoint each epoch, sample grids, loss curve)",
        description="Train a GAN on MNIST-format images held in memory. Writes OUT/last.pt "
        "each epoch, OUT/samples/iter_*.png from fixed noise and OUT/loss_curve.png. "
        "Works under torchrun (DDP).",
    )
    train.add_argument(
        "--model", choices=MODELS, default="fc", help="fc (course GAN) or dc (DCGAN)"
    )
    train.add_argument(
        "--loss",
        choices=list(LOSSES),
        default="bce",
        help="bce (vanilla), ls (least squares) or hinge",
    )
    train.add_argument("--data", choices=DATA_SETS, default="fashion-mnist")
    train.add_argument(
        "--data-dir",
        type=valid.existing_folder,
        help="folder of MNIST-format IDX files (mnist needs it)",
    )
    train.add_argument(
        "--epochs", type=valid.positive_int, help="default: the course's (fc 10, dc 5)"
    )
    train.add_argument("--out", type=valid.output_folder, required=True, help="output folder")
    train.add_argument(
        "--resume", action="store_true", help="continue OUT/last.pt (same settings and data)"
    )
    train.add_argument(
        "--checkpoint-every",
        default="5min",
        help="also write OUT/last.pt within an epoch this often: 30s, 5min, 1h or 200it",
    )
    train.add_argument(
        "--show-every", type=valid.positive_int, default=250, help="iterations between grids"
    )
    train.add_argument(
        "--batch-size", type=valid.positive_int, default=128, help="global batch (default 128)"
    )
    train.add_argument("--learning-rate", type=valid.positive_float, default=1e-3)
    train.add_argument(
        "--num-train",
        type=valid.positive_int,
        default=NUM_TRAIN,
        help="first N training images (course: 50000)",
    )
    _add_common(train, "cpu (gloo under torchrun) or cuda (nccl)")
    train.set_defaults(handler=_train)


def _register_sample_and_eval(gan) -> None:
    sample = gan.add_parser("sample", help="draw a grid of samples from a checkpoint")
    sample.add_argument("--checkpoint", type=valid.existing_file, required=True)
    sample.add_argument(
        "--num", type=valid.positive_int, default=64, help="number of samples (default 64)"
    )
    sample.add_argument(
        "--interpolate",
        action="store_true",
        help="also write a latent interpolation strip (4 rows x 10 steps)",
    )
    sample.add_argument(
        "--out",
        type=valid.output_file_with_suffix(".png"),
        help="PNG path (default: beside the checkpoint)",
    )
    _add_common(sample, "where to run the generator")
    sample.set_defaults(handler=_sample)

    evaluate = gan.add_parser(
        "eval",
        help="FID (Fashion-MNIST CNN features) and classifier statistics of a checkpoint",
        description="FID between generated images and the test split, in the feature space of "
        "the project's Fashion-MNIST CNN (not Inception FID), with the CNN's mean "
        "confidence and predicted-class histogram of the samples.",
    )
    evaluate.add_argument("--checkpoint", type=valid.existing_file, required=True)
    evaluate.add_argument("--num-samples", type=valid.positive_int, default=10000)
    evaluate.add_argument(
        "--data-dir",
        type=valid.existing_folder,
        help="folder of the test IDX files (default: as trained)",
    )
    _add_common(evaluate, "where to run the networks")
    evaluate.set_defaults(handler=_eval)


def register(groups) -> None:
    _register_train(groups["gan"])
    _register_sample_and_eval(groups["gan"])
