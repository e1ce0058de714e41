"""Alert rules (YAML), their evaluation and delivery through apprise."""
