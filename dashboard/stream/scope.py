"""Who sees which live events: the person's or agent's scope, narrowed by the filters a client sends."""

from dataclasses import dataclass, field, replace

from orchestration.models import Agent
from orchestration.roles import roles_of, sees_whole_organisation
from orchestration.scoping import visible_departments

ORGANISATION_EVENTS = {"policy.changed"}  # events with no department that every role may see; the others with none
# (an alert on the audit log) go to those who see every department


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class StreamScope:
    all_departments: bool = False
    department_ids: frozenset[int] = frozenset()
    agent_id: int | None = None
    departments: frozenset[int] | None = None
    agents: frozenset[int] | None = None
    verdicts: frozenset[str] | None = None
    min_risk: int = 0
    label: str = field(default="", compare=False)

    def allows(self, event: dict) -> bool:
        if self.agent_id is not None and event["agent_id"] != self.agent_id:
            return False
        department_id = event["department_id"]
        if department_id is None:
            if event["type"] not in ORGANISATION_EVENTS and not self.all_departments:
                return False
        elif not (self.all_departments or department_id in self.department_ids):
            return False
        if self.departments is not None and department_id not in self.departments:
            return False
        if self.agents is not None and event["agent_id"] not in self.agents:
            return False
        if event["type"] == "decision.created":
            data = event["data"]
            if self.verdicts is not None and data.get("verdict") not in self.verdicts:
                return False
            if data.get("risk_score", 0) < self.min_risk:
                return False
        elif self.verdicts is not None or self.min_risk:
            return False  # verdict and risk filters ask for decisions only
        return True

    def narrowed(self, message: dict) -> "StreamScope":
        """Apply a client's filter message; it can narrow what is sent, never widen what is allowed."""

        def ids(name: str) -> frozenset[int] | None:
            value = message.get(name)
            if value is None:
                return None
            if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                raise FilterError(f"'{name}' must be a list of ids")
            return frozenset(value)

        verdicts = message.get("verdicts")
        if verdicts is not None and (not isinstance(verdicts, list) or not all(isinstance(v, str) for v in verdicts)):
            raise FilterError("'verdicts' must be a list of verdict names")
        min_risk = message.get("min_risk", 0)
        if not isinstance(min_risk, int) or isinstance(min_risk, bool) or not 0 <= min_risk <= 100:
            raise FilterError("'min_risk' must be a whole number from 0 to 100")
        return replace(
            self,
            departments=ids("departments"),
            agents=ids("agents"),
            verdicts=frozenset(verdicts) if verdicts is not None else None,
            min_risk=min_risk,
        )


def scope_for_user(user) -> StreamScope | None:
    """None when the person holds no role: they may not watch anything."""
    if not user.is_authenticated or not (user.is_superuser or roles_of(user)):
        return None
    if sees_whole_organisation(user):
        return StreamScope(all_departments=True, label=f"user:{user.get_username()}")
    departments = frozenset(visible_departments(user).values_list("pk", flat=True))
    return StreamScope(department_ids=departments, label=f"user:{user.get_username()}")


def scope_for_agent(agent: Agent) -> StreamScope:
    return StreamScope(all_departments=True, agent_id=agent.pk, label=f"agent:{agent.slug}")
