"""Storage: SQLAlchemy models, the engine with its pragmas, and the migration runner. No Qt."""
