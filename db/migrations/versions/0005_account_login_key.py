"""account.login_key: what a sign-in cookie names, random and never reused

A cookie that named the account's row id outlived the account: on SQLite a removed account's
id is given to the next one, and the old cookie then signed in as the new account. The key is
random, and replaced at sign-out and at a password change, which ends every other sign-in.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 17:00:00
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("login_key", sa.String(length=64), nullable=True))
    account = sa.table("account", sa.column("id", sa.Integer), sa.column("login_key", sa.String))
    connection = op.get_bind()
    for (account_id,) in connection.execute(sa.select(account.c.id)).all():
        key = secrets.token_hex(32)
        connection.execute(account.update().where(account.c.id == account_id).values(login_key=key))
    op.create_index("ix_account_login_key", "account", ["login_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_account_login_key", table_name="account")
    with op.batch_alter_table("account") as batch:
        batch.drop_column("login_key")
