"""`python -m agrippa.train PROJECT ...` (the same as `agrippa train`)."""
import sys

from .cli import main

sys.exit(main())
