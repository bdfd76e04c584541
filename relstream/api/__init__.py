"""The HTTP read side: KPI documents from Redis over a small authenticated JSON API, plus the dashboard."""
