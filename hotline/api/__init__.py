"""The HTTP side: webhooks that authenticate, parse and hand off; the volunteer and coordinator API."""
