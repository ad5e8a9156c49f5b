from governance.models.approval import Approval
from governance.models.decision import Decision, Outcome, Verdict
from governance.models.override import Override
from governance.models.policy import Effect, Mode, Policy, PolicyExample, PolicyVersion
from governance.models.replay import ReplayRun

__all__ = [
    "Approval",
    "Decision",
    "Effect",
    "Mode",
    "Outcome",
    "Override",
    "Policy",
    "PolicyExample",
    "PolicyVersion",
    "ReplayRun",
    "Verdict",
]
