"""The tool's use cases, as functions that read files and return values (never print or
exit): assess a case file, a batch, a caseload under two editions; browse the rules."""
