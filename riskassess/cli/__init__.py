"""The command line: the fast entry point (`fast.py`, no typer), then the typer
application, one module per command group. Nothing here decides anything legal."""
