"""The CrossGuard policy pack (`__main__.py`) and its rules (`rules/`), shared with offline review."""
