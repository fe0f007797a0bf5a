"""`vislab data train-fmnist-cnn`: rebuild the shipped Fashion-MNIST CNN weights."""

from __future__ import annotations

from pathlib import Path


def _train_fmnist_cnn(args) -> None:
    from vislab.backbones.fmnist_cnn import shipped_weights_path
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
    out = Path(args.out) if args.out else shipped_weights_path()
    save_fmnist_cnn(result.model, out)
    for epoch, accuracy in enumerate(result.test_accuracy, start=1):
        print(f"epoch {epoch}: test accuracy {accuracy:.4f}")
    print(f"weights: {out}")


def register(groups) -> None:
    parser = groups["data"].add_parser(
        "train-fmnist-cnn",
        help="train the shared Fashion-MNIST CNN and write its weights",
        description="Train the Fashion-MNIST CNN that the scene builder, the explain task and "
        "the GAN FID share. Without --out it replaces the weights shipped in the package.",
    )
    parser.add_argument("--data-dir", help="folder with the MNIST-format files")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--max-train", type=int, help="use only the first N training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="weights file to write (default: the shipped file)")
    parser.set_defaults(handler=_train_fmnist_cnn)
