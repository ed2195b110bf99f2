"""Evaluating rule sets: the three-valued engine, its compiled tables and their cache,
conditional reasons, `rules check`'s proofs, and decisive facts. Pure: no I/O but the
cache, no printing, no clock."""
