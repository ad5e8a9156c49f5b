from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workflows"

    def ready(self) -> None:
        from audit import retention
        from governance.approvals import approval_decided, approval_deciding
        from orchestration.signals import agents_stopped, registry_changed
        from workflows.models import StepRun, WorkflowRun
        from workflows.routing import forget_rankings
        from workflows.runtime import hold_run_of_parked_step, resume_parked_step, stop_work_of_killed_agents

        approval_deciding.connect(hold_run_of_parked_step, dispatch_uid="regent.hold_run_of_parked_step")
        approval_decided.connect(resume_parked_step, dispatch_uid="regent.resume_parked_step")
        agents_stopped.connect(stop_work_of_killed_agents, dispatch_uid="regent.stop_agent_work")
        registry_changed.connect(forget_rankings, dispatch_uid="regent.forget_rankings")
        # Traces: a finished workflow run with its step runs (routing scores, outputs, errors) expires by when it
        # finished; a run still going has no finish and stays.
        retention.register(retention.RecordKind("traces", WorkflowRun, "finished_at", parts=((StepRun, "run"),)))
