import sys

from edlbench.cli import main

sys.exit(main())
