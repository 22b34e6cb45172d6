"""The demo's API: quotes, a fan-out endpoint, server-sent events."""
