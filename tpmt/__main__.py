"""Allow ``python -m tpmt``."""

from tpmt.cli import main

main()
