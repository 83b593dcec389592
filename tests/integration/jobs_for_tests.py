"""Importable job functions for worker tests (RQ jobs are referenced by dotted path)."""


def add(left: int, right: int) -> int:
    return left + right
