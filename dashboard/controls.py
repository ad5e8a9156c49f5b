"""Leaders' controls on an agent's or a department's page: what each button does, said before it is done.

The change itself is `orchestration.kill_switch` (the same functions the API and the admin call); this module
words the confirmation ("Pause Invoice Bot? It will stop acting now; …") from what is true at that moment.
"""

from dataclasses import dataclass

from django import forms

from orchestration.kill_switch import status_changes_for
from orchestration.models import Agent, Department, Status
from orchestration.roles import Role
from workflows.models import StepRun

REASON_REQUIRED = "Say why: the reason is kept in the audit log with your name."
VERBS = {Status.PAUSED: "Pause", Status.ACTIVE: "Resume", Status.KILLED: "Kill"}


class StatusChangeForm(forms.Form):
    """The confirmation: the status wanted and the reason, which is mandatory."""

    status = forms.ChoiceField(choices=Status.choices)
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": REASON_REQUIRED},
        label="Reason",
        help_text="Kept in the audit log with your name, and shown in the status history.",
    )


@dataclass(frozen=True)
class Control:
    status: Status
    verb: str
    question: str
    consequence: str

    @property
    def dangerous(self) -> bool:
        return self.status == Status.KILLED


def controls_for(user, holder: Agent | Department) -> list[Control]:
    """The buttons this person sees on the page, each with its confirmation, in the order shown."""
    return [describe(holder, status) for status in status_changes_for(user, holder)]


def describe(holder: Agent | Department, status: Status) -> Control:
    verb = VERBS[status]
    steps = unfinished_steps(holder)
    if isinstance(holder, Department):
        agents = holder.agents.count()
        who = f"Its {_count(agents, 'agent')}"
        if status == Status.PAUSED:
            text = (
                f"{who} will stop acting now: every action they ask to take is refused until the department is "
                f"resumed. {_waiting(steps, 'They have')}"
            )
        else:
            text = (
                f"{who} may act again at once, within policies and budget; "
                "an agent paused or killed on its own stays so."
            )
    elif status == Status.PAUSED:
        text = "It will stop acting now: every action it asks to take is refused until someone resumes it. " + _waiting(
            steps, "It has"
        )
    elif status == Status.KILLED:
        stopped = f"its {_count(steps, 'unfinished workflow step')} fail with their workflow runs, " if steps else ""
        text = (
            f"It stops at once: {stopped}calls to its provider under way are stopped, and it may not act again "
            f"until an {Role.EXECUTIVE} or a {Role.POLICY_ADMIN} revives it."
        )
    else:
        text = "It may act again at once, within its policies and budget."
    return Control(status=status, verb=verb, question=f"{verb} {holder.name}?", consequence=text)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _waiting(steps: int, subject: str) -> str:
    if not steps:
        return f"{subject} no unfinished workflow steps."
    return f"{subject} {_count(steps, 'unfinished workflow step')}; any that asks to act meanwhile fails."


def unfinished_steps(holder: Agent | Department) -> int:
    """Workflow steps assigned to the agent (or the department's agents) that have not finished."""
    steps = StepRun.objects.exclude(status__in=StepRun.FINISHED)
    if isinstance(holder, Department):
        return steps.filter(agent__department=holder).count()
    return steps.filter(agent=holder).count()
