import sys

from stations.cli import main

sys.exit(main())
