"""``python -m revloop.interfaces.cli``."""

from revloop.interfaces.cli import main

main()
