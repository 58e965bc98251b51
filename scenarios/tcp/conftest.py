"""The TCP scenarios import their helpers as ``tcpkit`` (scenarios/tcp/tcpkit.py), whether or not
``scenarios/`` is a package."""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)
