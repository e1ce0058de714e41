"""Numbered SQL migrations of the journal schema (applied by ``seraphim journal migrate``)."""
