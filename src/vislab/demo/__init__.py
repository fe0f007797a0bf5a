"""`vislab demo`: runs the tasks and turns their results into report sections."""

from vislab.demo.budgets import BUDGET_NAMES, BUDGETS, Budget, budget_for
from vislab.demo.run import STEPS, DemoStep, run_demo

__all__ = ["BUDGETS", "BUDGET_NAMES", "STEPS", "Budget", "DemoStep", "budget_for", "run_demo"]
