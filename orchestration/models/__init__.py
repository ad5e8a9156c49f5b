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

__all__ = [
    "Agent",
    "AgentKey",
    "Capability",
    "Department",
    "ModelProvider",
    "RiskTier",
    "Status",
    "capability_code",
]
