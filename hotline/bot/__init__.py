"""The service layer: channels, the dispatcher (inbox to engine to outbox), the outbox sender and paging."""
