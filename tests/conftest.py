"""Every test runs with the diagnostic-code registry strict: a diagnostic whose code is not
in `agrippa.base.codes` fails the test that made it."""
from agrippa.base import codes

codes.strict()
