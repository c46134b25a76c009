"""Scoring: keys, article 7 rules, rescoring, item statistics and objection windows."""

from __future__ import annotations
