"""Allow `python -m riskassess`."""

from riskassess.fast import main

main()
