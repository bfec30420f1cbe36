"""Monitoring: the alert rules written once (alert_rules.py) and the objects that scrape,
evaluate and deliver them on each cluster kind, the notification topic and the budget."""
