"""What every process needs to run: settings, logs, metrics and health, reconnect backoff."""
