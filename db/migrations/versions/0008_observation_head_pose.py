"""observation.yaw, pitch, looking: where the face was turned, and whether at the screen

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("observation") as batch:
        batch.add_column(sa.Column("yaw", sa.Float(), nullable=True))
        batch.add_column(sa.Column("pitch", sa.Float(), nullable=True))
        batch.add_column(sa.Column("looking", sa.String(length=6), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("observation") as batch:
        batch.drop_column("looking")
        batch.drop_column("pitch")
        batch.drop_column("yaw")
