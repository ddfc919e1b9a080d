"""Lessons: the from-scratch math the chapters teach, each checked against an independent reference."""
