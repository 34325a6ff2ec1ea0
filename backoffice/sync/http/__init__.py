"""What every target's calls share: the HTTP transport (transport.py) and the typed errors (errors.py)."""
