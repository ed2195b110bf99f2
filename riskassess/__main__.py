"""Allow `python -m riskassess`."""

from riskassess.cli.fast import main

main()
