"""What the rules folder declares, as models: the vocabulary (facts, questions), the case
and report models built from it, rule sets, the editions catalog and the choice of an
edition, the scenario sidecars. Loading checks what can be checked without evaluating."""
