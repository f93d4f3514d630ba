"""accounts and session owners

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 06:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    with op.batch_alter_table("class_session") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.create_index("ix_class_session_owner_id", ["owner_id"])
        batch.create_foreign_key(
            "fk_class_session_owner_id_account", "account", ["owner_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("class_session") as batch:
        batch.drop_constraint("fk_class_session_owner_id_account", type_="foreignkey")
        batch.drop_index("ix_class_session_owner_id")
        batch.drop_column("owner_id")
    op.drop_table("account")
