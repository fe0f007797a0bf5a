"""`vislab gan train | sample | eval`: train the course's GANs, draw from them, measure them.

`gan train` runs unchanged under torchrun (DistributedDataParallel; only rank 0 prints and
writes): `torchrun --standalone --nproc-per-node=2 -m vislab gan train ...`.
"""

from __future__ import annotations

from pathlib import Path

from vislab.cli import arguments as valid

COURSE_EPOCHS = {"fc": 10, "dc": 5}


def _settings(args) -> dict:
    """model, loss, spectral_norm, ema_decay: the course's, then the recipe's, then the options."""
    from vislab.gan.registry import recipe_choices

    settings = {"model": "fc", "loss": "bce", "spectral_norm": False, "ema_decay": 0.0}
    settings.update(recipe_choices(args.recipe))
    for name in ("model", "loss", "ema_decay"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    settings["spectral_norm"] = settings["spectral_norm"] or args.spectral_norm
    return settings


def _train(args) -> int:
    from vislab.gan import GanConfig, load_gan_images, train_gan
    from vislab.run_guard import CheckpointEvery
    from vislab.torch_nn.distributed import init_from_env

    every = CheckpointEvery.parse(args.checkpoint_every)
    settings = _settings(args)
    config = GanConfig(
        **settings,
        epochs=COURSE_EPOCHS[settings["model"]] if args.epochs is None else args.epochs,
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
    from vislab.gan.checkpoints import default_weights
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
        weights=args.weights or default_weights(checkpoint),
    ):
        print(path)
    return 0


def _eval(args) -> int:
    from vislab.gan.checkpoint_evaluation import evaluate_checkpoint
    from vislab.gan.checkpoints import default_weights

    checkpoint = Path(args.checkpoint)
    weights = args.weights or default_weights(checkpoint)
    result = evaluate_checkpoint(
        checkpoint,
        args.out or checkpoint.parent / f"eval_{weights}",
        weights=weights,
        num_samples=args.num_samples,
        num_bootstrap=args.num_bootstrap,
        num_memorisation=args.num_memorisation,
        data_dir=args.data_dir,
        seed=args.seed,
        device=args.device,
        progress=True,
    )
    rows = [("metric", f"samples ({weights} weights)", "held-out real (floor)"),
            *result.evaluation.rows()]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(f"evaluation: {result.json_path}")
    for path in result.figures.values():
        print(f"figure: {path}")
    return 0


def _add_weights(parser) -> None:
    parser.add_argument(
        "--weights",
        choices=["ema", "raw"],
        help="the EMA generator or the raw one (default: ema when the checkpoint has it)",
    )


def _add_common(parser, device_help: str) -> None:
    parser.add_argument("--device", type=valid.device, default="cpu", help=device_help)
    parser.add_argument("--seed", type=valid.seed, default=0, help="random seed (default 0)")


def _register_train(gan) -> None:
    from vislab.gan.data import DATA_SETS, NUM_TRAIN
    from vislab.gan.registry import LOSSES, MODELS, RECIPES

    train = gan.add_parser(
        "train",
        help="train a GAN (checkpoint each epoch, sample grids, loss curve)",
        description="Train a GAN on MNIST-format images held in memory. Writes OUT/last.pt "
        "each epoch, OUT/samples/iter_*.png from fixed noise and OUT/loss_curve.png. "
        "Works under torchrun (DDP).",
    )
    train.add_argument(
        "--recipe",
        choices=list(RECIPES),
        default="course",
        help="course (the options below, course defaults) or strong (DCGAN + spectral norm + "
        "hinge + EMA 0.999); --model/--loss/--ema-decay given as well override the recipe",
    )
    train.add_argument("--model", choices=MODELS, help="fc (course GAN, default) or dc (DCGAN)")
    train.add_argument(
        "--loss", choices=list(LOSSES), help="bce (vanilla, default), ls (least squares) or hinge"
    )
    train.add_argument(
        "--spectral-norm",
        action="store_true",
        help="spectral normalisation of every discriminator layer (default off)",
    )
    train.add_argument(
        "--ema-decay",
        type=valid.open_fraction,
        help="keep an EMA of the generator's weights with this decay, e.g. 0.999 (default off)",
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
        type=valid.checkpoint_every,
        default="5min",
        help="also write OUT/last.pt within an epoch this often: 30s, 5min, 1h or 200it",
    )
    train.add_argument(
        "--show-every", type=valid.positive_int, default=250, help="iterations between grids"
    )
    train.add_argument(
        "--batch-size", type=valid.positive_int, default=128, help="global batch (default 128)"
    )
    train.add_argument("--learning-rate", type=valid.learning_rate, default=1e-3)
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
        "--num", type=valid.sample_count, default=64, help="number of samples (default 64)"
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
    _add_weights(sample)
    _add_common(sample, "where to run the generator")
    sample.set_defaults(handler=_sample)

    evaluate = gan.add_parser(
        "eval",
        help="FID, KID, precision/recall/density/coverage and a memorisation check, each "
        "beside the real-vs-real floor",
        description="Scores NUM_SAMPLES generated images against the test split in the feature "
        "space of the project's Fashion-MNIST CNN (not Inception): FID with a 95% bootstrap "
        "interval, unbiased KID, precision/recall/density/coverage (k=5), the CNN's class "
        "balance and each sample's nearest training images; beside each, held-out real "
        "training images score the floor. Prints the table; writes OUT/evaluation.json, "
        "memorisation.png, memorisation_distances.png and class_balance.png.",
    )
    evaluate.add_argument("--checkpoint", type=valid.existing_file, required=True)
    evaluate.add_argument("--num-samples", type=valid.positive_int, default=10000)
    evaluate.add_argument(
        "--num-bootstrap", type=valid.resamples, default=50, help="FID resamples (default 50)"
    )
    evaluate.add_argument(
        "--num-memorisation",
        type=valid.positive_int,
        default=1000,
        help="samples checked against every training image (default 1000)",
    )
    evaluate.add_argument(
        "--out",
        type=valid.output_folder,
        help="folder for the JSON and figures (default: beside the checkpoint, eval_WEIGHTS)",
    )
    _add_weights(evaluate)
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
