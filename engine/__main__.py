"""``python -m engine`` runs the netsot command line."""

from engine.cli.main import main

main()
