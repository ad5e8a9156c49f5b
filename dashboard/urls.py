from django.urls import path

from dashboard.views import board, overview, risk, strategy

app_name = "dashboard"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("live/overview.json", overview.overview_numbers_json, name="overview-numbers"),
    path("risk/", risk.risk, name="risk"),
    path("strategy/", strategy.strategy, name="strategy"),
    path("board/", board.board, name="board"),
    path("board/report.pdf", board.board_pdf, name="board-pdf"),
    path("board/report.csv", board.board_csv, name="board-csv"),
]
