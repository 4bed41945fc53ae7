"""Read models: each projection folds one store's events into tables, exactly once."""
