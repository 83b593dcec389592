"""Callbacks: the database row is the truth; RQ only does the timing."""
