"""Claim-level checking: an answer is split into claims, and each is judged against its passages."""
