"""The service layer: one function per business command or read, called alike by the JSON
routes and the web UI. A command authorizes (domain.access, the one policy table), then
starts, updates or queries a workflow through the gateway, or reads a storage view."""
