"""``python -m paysim``: the same as the ``paysim`` command."""

from paysim.cli import main

if __name__ == "__main__":
    main()
