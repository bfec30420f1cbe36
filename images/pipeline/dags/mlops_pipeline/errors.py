"""The one exception the plain modules raise for a reason no retry can fix."""

from __future__ import annotations


class Refused(Exception):
    """A run that cannot go on, for a reason a person must act on (bad conf, bad data, an expired version).

    The tasks turn it into Airflow's AirflowFailException: failed at once, never retried."""
