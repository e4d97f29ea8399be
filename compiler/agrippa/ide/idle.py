"""Work the analysis host does when the editor is idle: recording a project's first
analysis (`AnalysisHost.defer_recording`), so that the first edit after opening a large
file is re-analysed incrementally without having slowed its first diagnostics."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from agrippa.sema.analysis import Cancelled

log = logging.getLogger(__name__)
RECORD_IDLE_S = 0.5  # recorded after this long without requests
RECORD_TRIES = 20


def record_when_idle(host: Any, index: str) -> None:  # host: the AnalysisHost (host.py)
    """Analyse `index` again, recorded, in the background once the editor is idle. A request
    or an edit stops it (requests come first); it is tried again at the next idle moment,
    and kept only if nothing changed meanwhile (its diagnostics are the published ones)."""
    threading.Thread(target=_record, args=(host, index), daemon=True).start()


def _record(host: Any, index: str) -> None:
    quiet_since = time.monotonic()  # the analysis was just published
    for _ in range(RECORD_TRIES):
        while time.monotonic() - max(host._asked, quiet_since) < RECORD_IDLE_S:
            time.sleep(RECORD_IDLE_S / 4)
        with host._lock:
            gen, asked = host._generation, host._asked
            files = dict(host._files)
            run_lock = host._run_locks.setdefault((index, False), threading.Lock())
            published = host._analyses.get(index)
            if published is None or host._last.get(index) is not published:
                return  # replaced meanwhile (an edit's analysis records itself)

        def cancel(gen: int = gen, asked: float = asked) -> None:
            if host._generation != gen or host._asked != asked:
                raise Cancelled

        with run_lock:
            try:
                # the same texts as the published analysis: its diagnostics are this one's (the
                # schema's, the slowest to make and without a cancel point, are not made again)
                a = host._run(index, False, files, {}, cancel, force_record=True, schema=False)
                a.diagnostics = published.diagnostics
            except Cancelled:
                continue
            except Exception:
                log.exception("recording the analysis of %s failed", index)
                return
            with host._lock:
                if host._generation == gen and index in host._analyses:
                    host._analyses[index] = host._last[index] = a
            return
