"""Generated case files, for the benchmark and the equivalence tests.

Cases are drawn from a vocabulary's declared facts (so nothing here names one), with a
fixed seed: the same call gives the same cases. Each is valid under the vocabulary's
constraints (facts given only for some values of another, implications, dates not after
the assessment date), so that the cases exercise the rules rather than the validator.
"""

from __future__ import annotations

import random
from typing import Any

from riskassess.law.dates import UNKNOWN

# partial and exact days around the thresholds the shipped editions compare with
DATES = ("2012", "2013-04", "2016-08-03", "2024", "2024-11-30", "2024-12", "2024-12-08",
         "2025-03-01")
ASSESSED = ("2024-06-01", "2025-02-01", "2026-02-10")


def case_dicts(vocab: Any, n: int, seed: int = 7, unknown_share: float = 0.1,
               assessed: tuple[str, ...] = ASSESSED,
               facts: list[str] | None = None) -> list[dict]:
    """`n` case dictionaries (as a case file's YAML would parse), each with every fact a
    rule may test, or with the `facts` named (in that order: a baseline records them, so
    that a fact added later draws nothing and the cases stay the same)."""
    rng = random.Random(seed)
    drawn = [(path, vocab.testable[path]) for path in facts] if facts is not None \
        else list(vocab.testable.items())
    out = []
    for i in range(n):
        day = rng.choice(assessed)
        applicant: dict[str, Any] = {}
        for path, spec in drawn:
            key = path.split(".", 1)[1]
            if spec.kind == "date":
                # dates no later than the assessment date (the year compared as text)
                fits = [d for d in DATES if d[:len(day)] <= day[:len(d)]]
                applicant[key] = rng.choice([*fits, UNKNOWN])
                continue
            if spec.kind == "set":
                value: Any = sorted(v for v in spec.values if rng.random() < 0.3)
            elif spec.kind == "bool":
                value = rng.choice([True, False])
            else:
                value = rng.choice(list(spec.values))
            if rng.random() < unknown_share:
                value = UNKNOWN
            applicant[key] = value
        for fact, (other, allowed) in vocab.given_only_if.items():
            if applicant.get(other.split(".", 1)[1], UNKNOWN) not in allowed:
                applicant[fact.split(".", 1)[1]] = UNKNOWN
        for imp in vocab.implications:  # a value one fact forces on another (must_be)
            key, when = imp.fact.split(".", 1)[1], imp.when_fact.split(".", 1)[1]
            if imp.broken_by(applicant.get(key, UNKNOWN), applicant.get(when, UNKNOWN)):
                applicant[key] = imp.value
        if rng.random() < 0.9:  # the country of the vocabulary's scope, else not given
            applicant[vocab.scope.fact.split(".", 1)[1]] = vocab.country
        out.append({"case_id": f"GEN-{i}", "assessment_date": day, "applicant": applicant})
    return out
