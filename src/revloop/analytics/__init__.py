"""Analytics: funnel, attribution, scoring, forecast, campaigns, content (pure queries + math)."""
