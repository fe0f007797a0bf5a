"""`vislab demo`: run everything on built-in data and write an HTML report."""

from __future__ import annotations

from vislab.cli import arguments as valid
from vislab.demo import BUDGET_NAMES, run_demo


def _demo(args) -> None:
    budget = "full" if args.full else args.budget
    report = run_demo(
        args.out,
        budget=budget,
        fresh=args.fresh,
        on_step=lambda step: print(f"== {step.title}", flush=True),
    )
    print(f"report: {report}")


def register(groups) -> None:
    parser = groups[""].add_parser(
        "demo",
        help="run every task on built-in data and write an HTML report",
        description="Build the scene caption set, train the captioners and GANs, explain the "
        "pretrained classifiers, and write OUT/report.html. A second run reuses what is "
        "built; an interrupted run continues where it stopped.",
    )
    parser.add_argument(
        "--out",
        type=valid.output_folder,
        default="demo-out",
        help="report folder (default: demo-out)",
    )
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument(
        "--quick",
        dest="budget",
        action="store_const",
        const="quick",
        help="short training budgets, 3 to 5 minutes on 2 cores (the default)",
    )
    speed.add_argument("--full", action="store_true", help="the course's full schedules")
    speed.add_argument("--budget", choices=BUDGET_NAMES, help="tiny | quick | full")
    parser.add_argument("--fresh", action="store_true", help="rebuild everything from scratch")
    parser.set_defaults(handler=_demo, budget="quick")
