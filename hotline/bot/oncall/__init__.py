"""On call: the rota, the escalation of pages, acknowledgements and the relay between volunteers and people."""
