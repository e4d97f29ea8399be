"""IDE services over the analysis: plain data for any front door (no protocol types).

`host.AnalysisHost` keeps the latest analysis of each project (and what features derive
from it); every other module is one feature answering a question about a file and a
position with dataclasses, strings and `agrippa.base.diagnostics` ranges and locations:
`hover`, `hints` (inlay), `completion`, `navigation`, `rename`, `symbols`, `actions`.
`locate` says what is at a position; `index` indexes tensors and names of an analysis.
"""
