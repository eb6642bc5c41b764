"""Outbound webhooks: endpoints, deliveries written with audit events, and their sending."""
