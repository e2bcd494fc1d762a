#!/usr/bin/env python3
"""Fallback for GNU time: run a command, write its peak RSS like `time -v`.

    measure.py <outfile> <command> [args...]

Writes 'Maximum resident set size (kbytes): N' and 'Exit status: N' to
<outfile> (the two lines ingest.sh reads), and exits with the command's code.
Peak RSS is resource.getrusage(RUSAGE_CHILDREN).ru_maxrss: the largest
resident set of any waited-for child (kilobytes on Linux).
"""

import resource
import subprocess
import sys

if len(sys.argv) < 3:
    sys.exit(__doc__)
rc = subprocess.call(sys.argv[2:])
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as f:
    f.write(f"Maximum resident set size (kbytes): {peak_kb}\nExit status: {rc}\n")
sys.exit(rc)
