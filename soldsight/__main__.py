import sys

from soldsight.cli import main

sys.exit(main())
