"""Evaluating rule sets: the three-valued engine, its compiled tables, conditional reasons,
`rules check`'s proofs, decisive facts and the comparison of two reports. No printing, no
clock, no file written; the only file read is a rule set a cached program must reload."""
