"""Aggregates for dashboards and the composite evaluation: the metric and indicator catalogue, the roll-up of
village figures to every enclosing region, change detection against the stored table, and the composite score.
Framework-free (no Django)."""
