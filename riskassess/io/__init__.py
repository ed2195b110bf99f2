"""Files in and out: the one safe reader of YAML (positions kept, limits held, special
files refused) and the one safe writer (atomic, never over an input or a special file),
standard output included. Knows nothing of the law."""
