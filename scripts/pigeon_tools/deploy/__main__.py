"""python -m pigeon_tools.deploy: what scripts/deploy.sh runs."""

import sys

from pigeon_tools.deploy.cli import main

sys.exit(main())
