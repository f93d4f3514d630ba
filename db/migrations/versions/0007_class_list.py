"""class_list_entry, name_correction, participant.listed and .merged_into: a session's class list,
which names came from it, and the teacher's corrections

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "class_list_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["class_session.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_class_list_entry_session_id", "class_list_entry", ["session_id"])
    op.create_table(
        "name_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("from_key", sa.String(length=200), nullable=False),
        sa.Column("to_key", sa.String(length=200), nullable=False),
        sa.Column("to_name", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["class_session.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_name_correction_session_id", "name_correction", ["session_id"])
    with op.batch_alter_table("participant") as batch:
        batch.add_column(sa.Column("listed", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("merged_into", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_participant_merged_into", "participant", ["merged_into"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.drop_constraint("fk_participant_merged_into", type_="foreignkey")
        batch.drop_column("merged_into")
        batch.drop_column("listed")
    op.drop_index("ix_name_correction_session_id", table_name="name_correction")
    op.drop_table("name_correction")
    op.drop_index("ix_class_list_entry_session_id", table_name="class_list_entry")
    op.drop_table("class_list_entry")
