"""Real peers the project checks its library against (today: a private Docker Engine)."""
