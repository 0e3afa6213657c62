"""Every caller's flow: who reported, sealed details and reporter, groups of reports about the same people

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("report", sa.Column("reported_by", sa.String(length=16), nullable=True))
    op.add_column("report", sa.Column("reporter", sa.LargeBinary(), nullable=True))
    op.add_column("report", sa.Column("details", sa.LargeBinary(), nullable=True))
    op.add_column("report", sa.Column("group_id", sa.Integer(), nullable=True))
    op.create_index("ix_report_group_id", "report", ["group_id"])
    op.create_index("ix_report_kind_created", "report", ["kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_report_kind_created", table_name="report")
    op.drop_index("ix_report_group_id", table_name="report")
    op.drop_column("report", "group_id")
    op.drop_column("report", "details")
    op.drop_column("report", "reporter")
    op.drop_column("report", "reported_by")
