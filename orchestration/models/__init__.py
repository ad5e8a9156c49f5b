from orchestration.models.registry import (
    Agent,
    AgentKey,
    Capability,
    Department,
    ModelProvider,
    RiskTier,
    Status,
    capability_code,
)
from orchestration.models.strategy import Strategy
from orchestration.models.workflows import StepRun, StepTemplate, WorkflowRun, WorkflowTemplate, step_order_problems

__all__ = [
    "Agent",
    "AgentKey",
    "Capability",
    "Department",
    "ModelProvider",
    "RiskTier",
    "Status",
    "StepRun",
    "StepTemplate",
    "Strategy",
    "WorkflowRun",
    "WorkflowTemplate",
    "capability_code",
    "step_order_problems",
]
