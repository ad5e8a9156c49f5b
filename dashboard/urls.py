from django.urls import path

from dashboard.views import agents, approvals, board, decisions, graph, overview, risk, strategy

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
    path("decisions/<int:pk>/", decisions.decision, name="decision"),
    path("decisions/<int:pk>/override/", decisions.override, name="decision-override"),
    # Oversight: the agents' league, an agent's page and the interaction graph
    path("agents/", agents.agent_league, name="agents"),
    path("agents/<int:agent_id>/", agents.agent_page, name="agent"),
    path("agents/<int:agent_id>/status", agents.agent_status, name="agent-status"),
    path("interactions/", graph.interactions, name="interactions"),
]
