"""Dashboard: live class mood and per-session reports (Dash + Plotly)."""
