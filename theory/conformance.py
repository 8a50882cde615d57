"""``python -m theory.conformance``: the conformance report of L2 PGDs (:mod:`theory.attacks.conformance`)."""

import sys

from theory.attacks.conformance import main

if __name__ == "__main__":
    sys.exit(main())
