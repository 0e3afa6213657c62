"""SMS, voice and attachments: opt-outs, delivery status, channel fallback, volunteer phones, sealed files

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("inbound_event_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.LargeBinary(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("mime_type", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=True),
        sa.Column("error", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("stored_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["inbound_event_id"], ["inbound_event.id"]),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("inbound_event_id", "kind", name="uq_attachment_event_kind"),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index("ix_attachment_report_id", ["report_id"], unique=False)

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opted_out_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("delivery_updated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("fallback_of_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_message_provider", ["channel", "provider_message_id"], unique=False)
        batch_op.create_foreign_key("fk_message_fallback_of_id", "message", ["fallback_of_id"], ["id"])

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_contact_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_report_last_contact_id", "contact", ["last_contact_id"], ["id"])

    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_index", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_volunteer_phone_index", ["phone_index"])


def downgrade() -> None:
    with op.batch_alter_table("volunteer", schema=None) as batch_op:
        batch_op.drop_constraint("uq_volunteer_phone_index", type_="unique")
        batch_op.drop_column("phone_index")

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint("fk_report_last_contact_id", type_="foreignkey")
        batch_op.drop_column("last_contact_id")

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_constraint("fk_message_fallback_of_id", type_="foreignkey")
        batch_op.drop_index("ix_message_provider")
        batch_op.drop_column("fallback_of_id")
        batch_op.drop_column("delivery_updated_at")
        batch_op.drop_column("delivery_status")

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("opted_out_at")

    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index("ix_attachment_report_id")

    op.drop_table("attachment")
