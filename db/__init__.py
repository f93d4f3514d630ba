"""Database: SQLAlchemy models and Alembic migrations."""
