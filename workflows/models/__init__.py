from workflows.models.runs import StepRun, StepTemplate, WorkflowRun, WorkflowTemplate, step_keys, step_order_problems
from workflows.models.strategy import Strategy

__all__ = [
    "StepRun",
    "StepTemplate",
    "Strategy",
    "WorkflowRun",
    "WorkflowTemplate",
    "step_keys",
    "step_order_problems",
]
