"""Allow `python -m riskassess`."""

from riskassess.cli import main

main()
