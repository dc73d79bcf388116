import sys

from stations.cli import main

if __name__ == "__main__":  # child processes (multiprocessing spawn) import this too
    sys.exit(main())
