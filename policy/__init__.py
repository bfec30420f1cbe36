"""The CrossGuard policy pack (`__main__.py`) and its rules (`rules.py`), shared with offline review."""
