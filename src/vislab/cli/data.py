"""`vislab data train-fmnist-cnn`: retrain the Fashion-MNIST CNN into a weights file of your own."""

from __future__ import annotations

from vislab.cli import arguments as valid


def _train_fmnist_cnn(args) -> None:
    from vislab.backbones.fmnist_training import save_fmnist_cnn, train_fmnist_cnn

    result = train_fmnist_cnn(
        data_dir=args.data_dir,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        max_train=args.max_train,
        progress=True,
    )
    out = save_fmnist_cnn(result.model, args.out)
    for epoch, accuracy in enumerate(result.test_accuracy, start=1):
        print(f"epoch {epoch}: test accuracy {accuracy:.4f}")
    print(f"weights: {out}")


def _train_fmnist_judge(args) -> None:
    from vislab.backbones.fmnist_judge import SEED, FashionMNISTJudge
    from vislab.backbones.fmnist_training import save_fmnist_cnn, train_fmnist_cnn

    result = train_fmnist_cnn(
        data_dir=args.data_dir,
        epochs=args.epochs,
        seed=SEED,
        max_train=args.max_train,
        progress=True,
        build_model=FashionMNISTJudge,
    )
    out = save_fmnist_cnn(result.model, args.out)
    print(f"test accuracy {result.test_accuracy[-1]:.4f}")
    print(f"weights: {out}")


def register(groups) -> None:
    parser = groups["data"].add_parser(
        "train-fmnist-cnn",
        help="train the shared Fashion-MNIST CNN and write its weights",
        description="Train the Fashion-MNIST CNN that the scene builder, the explain task and "
        "the GAN FID share. Writes --out (never the weights shipped in the package); load it "
        "with `--weights FILE` or `load_fmnist_cnn(weights=FILE)`.",
    )
    parser.add_argument(
        "--data-dir", type=valid.existing_folder, help="folder with the MNIST-format files"
    )
    parser.add_argument("--epochs", type=valid.positive_int, default=6)
    parser.add_argument("--batch-size", type=valid.positive_int, default=128)
    parser.add_argument("--learning-rate", type=valid.learning_rate, default=3e-3)
    parser.add_argument(
        "--max-train", type=valid.positive_int, help="use only the first N training images"
    )
    parser.add_argument("--seed", type=valid.seed, default=0)
    parser.add_argument(
        "--out",
        type=valid.output_file_with_suffix(".safetensors"),
        default="fmnist_cnn.safetensors",
        help="weights file to write (default: fmnist_cnn.safetensors here)",
    )
    parser.set_defaults(handler=_train_fmnist_cnn)

    parser = groups["data"].add_parser(
        "train-fmnist-judge",
        help="train the independent Fashion-MNIST judge of the class visualizations",
        description="Train the second Fashion-MNIST classifier (another architecture, seed 1) "
        "that judges the CNN's class visualizations; the package ships one "
        "(backbones/weights/fmnist_judge.safetensors). Writes --out.",
    )
    parser.add_argument(
        "--data-dir", type=valid.existing_folder, help="folder with the MNIST-format files"
    )
    parser.add_argument("--epochs", type=valid.positive_int, default=3)
    parser.add_argument(
        "--max-train", type=valid.positive_int, help="use only the first N training images"
    )
    parser.add_argument(
        "--out",
        type=valid.output_file_with_suffix(".safetensors"),
        default="fmnist_judge.safetensors",
        help="weights file to write (default: fmnist_judge.safetensors here)",
    )
    parser.set_defaults(handler=_train_fmnist_judge)
