from django.urls import path

from dashboard.views import (
    agents,
    approvals,
    audit_log,
    board,
    compliance,
    controls,
    decisions,
    departments,
    graph,
    integrity,
    overview,
    policies,
    risk,
    strategy,
)

app_name = "dashboard"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("live/overview.json", overview.overview_numbers_json, name="overview-numbers"),
    path("risk/", risk.risk, name="risk"),
    path("strategy/", strategy.strategy, name="strategy"),
    path("board/", board.board, name="board"),
    path("board/report.pdf", board.board_pdf, name="board-pdf"),
    path("board/report.csv", board.board_csv, name="board-csv"),
    # Oversight: the approvals inbox, the decision explorer and one decision's page
    path("approvals/", approvals.inbox, name="approvals"),
    path("approvals/rows/", approvals.inbox_rows, name="approval-rows"),
    path("approvals/<int:pk>/decide/", approvals.decide, name="approval-decide"),
    path("approvals/decide/", approvals.decide_selected, name="approvals-decide-selected"),
    path("decisions/", decisions.explorer, name="decisions"),
    path("decisions/export.csv", decisions.export, name="decisions-export"),
    path("decisions/<int:pk>/", decisions.decision, name="decision"),
    path("decisions/<int:pk>/override/", decisions.override, name="decision-override"),
    # Oversight: the agents' league, an agent's page and the interaction graph
    path("agents/", agents.agent_league, name="agents"),
    path("agents/<int:agent_id>/", agents.agent_page, name="agent"),
    path("agents/<int:agent_id>/status", controls.agent_status, name="agent-status"),
    path("interactions/", graph.interactions, name="interactions"),
    # Leaders' pages: departments (with their controls) and policies, read-only
    path("departments/", departments.departments, name="departments"),
    path("departments/<int:department_id>/", departments.department_page, name="department"),
    path("departments/<int:department_id>/status", controls.department_status, name="department-status"),
    path("policies/", policies.policies, name="policies"),
    # Audit: the log in words, a page at a time
    path("audit-log/", audit_log.audit_log, name="audit-log"),
    # Audit: the chain's integrity, verified in the background, and its signed checkpoints
    path("integrity/", integrity.integrity_page, name="integrity"),
    path("integrity/verify", integrity.start_verification, name="integrity-verify"),
    path("integrity/runs/<int:run_id>.json", integrity.verification_state, name="integrity-run"),
    path("integrity/checkpoint", integrity.sign_checkpoint, name="integrity-sign"),
    path("integrity/checkpoint.json", integrity.checkpoint_file, name="integrity-checkpoint"),
    # Audit: the controls frameworks ask for, each with the evidence Regent holds for it
    path("compliance/", compliance.index, name="controls-index"),
    path("compliance/<slug:framework>/", compliance.framework_page, name="controls"),
    path("compliance/<slug:framework>/controls.csv", compliance.framework_csv, name="controls-csv"),
    path("compliance/<slug:framework>/evidence.zip", compliance.framework_bundle, name="controls-bundle"),
]
