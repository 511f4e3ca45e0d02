"""Notifications out of the building: webhooks (live state changes, alerts),
the alerts service and the weekly report; see docs/integrations.md."""
