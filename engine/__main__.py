"""``python -m engine`` runs the netsot command line."""

from engine.cli import main

main()
