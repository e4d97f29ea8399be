"""`python -m agrippa.train PROJECT ...` (the same as `agrippa train`)."""
import sys

from agrippa.train.cli import main

sys.exit(main())
