"""Applications and workflow definitions as registry sources (filled in below)."""


def connect() -> None:
    return None
