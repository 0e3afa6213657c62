"""On call: rota, overrides, incidents with their escalation, pages unique per step and channel

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Existing pages each get an incident (one per paged report) whose escalation is not resumed; volunteers
who were on duty become open-ended primary overrides, so nobody drops off duty by upgrading.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_rota_tables()
    _create_incident_table()
    # plain ALTERs, not a batch copy: SQLite cannot drop a table other rows still point at
    op.add_column("volunteer", sa.Column("role", sa.String(length=16), nullable=False, server_default="volunteer"))
    op.add_column("volunteer", sa.Column("quiet", sa.String(length=200), nullable=True))
    now = datetime.now(UTC).replace(tzinfo=None)
    op.execute(
        sa.text(
            "INSERT INTO override (layer, volunteer_id, starts_at, created_by, created_at) "
            "SELECT 'primary', id, :now, 'migration', :now FROM volunteer WHERE on_duty AND active"
        ).bindparams(now=now)
    )
    op.drop_column("volunteer", "on_duty")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("volunteer_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_api_token_volunteer_id", "volunteer", ["volunteer_id"], ["id"])
    _rebuild_pages()


def _create_rota_tables() -> None:
    op.create_table(
        "rotation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("every", sa.String(length=8), nullable=False),
        sa.Column("handoffs", sa.String(length=120), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("members", sa.String(length=400), nullable=False),
        sa.Column("starts_on", sa.String(length=10), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def _create_incident_table() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("alert", sa.Integer(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("repeats_done", sa.Integer(), nullable=False),
        sa.Column("cycle_started_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("first_paged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["volunteer.id"]),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id"),
    )
    op.create_index("ix_incident_due", "incident", ["status", "due_at"], unique=False)
    op.create_index(
        "uq_incident_open_alert", "incident", ["alert"], unique=True,
        postgresql_where=sa.text("status <> 'resolved'"), sqlite_where=sa.text("status <> 'resolved'"),
    )  # fmt: skip


def _rebuild_pages() -> None:
    """Give every paged report an incident (not resumed) and every page its step, repeat and channel."""
    step = {"notify": "primary", "by": ["telegram"], "gap": 60, "wait": 300}
    policy = {"name": "migrated", "steps": [step], "repeat": 1, "urgent_factor": 1, "acknowledged_timeout": 7200}
    op.execute(
        sa.text(
            "INSERT INTO incident (report_id, status, alert, policy, urgent, step, cycle, repeats_done, "
            "cycle_started_at, due_at, started_at, first_paged_at, acknowledged_at, acknowledged_by, updated_at) "
            "SELECT r.id, CASE WHEN r.acknowledged_by IS NULL THEN 'paging' ELSE 'acknowledged' END, r.id, :policy, "
            "r.urgent, 0, 0, 1, r.created_at, NULL, r.created_at, r.paged_at, r.acknowledged_at, r.acknowledged_by, "
            "r.updated_at FROM report r WHERE EXISTS (SELECT 1 FROM page p WHERE p.report_id = r.id)"
        ).bindparams(sa.bindparam("policy", policy, type_=sa.JSON))
    )
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_constraint("uq_page_report_volunteer", type_="unique")
        batch_op.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("step", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("repeat", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=False, server_default="telegram"))
        batch_op.add_column(sa.Column("due_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE page SET incident_id = (SELECT i.id FROM incident i WHERE i.report_id = page.report_id), "
        "due_at = created_at, channel = COALESCE((SELECT m.channel FROM message m WHERE m.id = page.message_id), "
        "'telegram')"
    )
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.alter_column("incident_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("due_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column("step", existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column("repeat", existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column("channel", existing_type=sa.String(length=16), server_default=None)
        batch_op.create_foreign_key("fk_page_incident_id", "incident", ["incident_id"], ["id"])
        batch_op.create_unique_constraint("uq_page_step", ["incident_id", "step", "repeat", "volunteer_id", "channel"])
        batch_op.create_index("ix_page_incident_id", ["incident_id"], unique=False)
        batch_op.create_index("ix_page_report", ["report_id", "volunteer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_index("ix_page_report")
        batch_op.drop_index("ix_page_incident_id")
        batch_op.drop_constraint("uq_page_step", type_="unique")
        batch_op.drop_constraint("fk_page_incident_id", type_="foreignkey")
        batch_op.drop_column("due_at")
        batch_op.drop_column("channel")
        batch_op.drop_column("repeat")
        batch_op.drop_column("step")
        batch_op.drop_column("incident_id")
    op.execute("DELETE FROM page WHERE id NOT IN (SELECT MIN(id) FROM page GROUP BY report_id, volunteer_id)")
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_page_report_volunteer", ["report_id", "volunteer_id"])
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_constraint("fk_api_token_volunteer_id", type_="foreignkey")
        batch_op.drop_column("volunteer_id")
    op.add_column("volunteer", sa.Column("on_duty", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE volunteer SET on_duty = EXISTS (SELECT 1 FROM override o WHERE o.volunteer_id = volunteer.id "
        "AND o.layer = 'primary' AND o.ends_at IS NULL AND o.cancelled_at IS NULL)"
    )
    op.drop_column("volunteer", "quiet")
    op.drop_column("volunteer", "role")
    op.drop_index("uq_incident_open_alert", table_name="incident")
    op.drop_index("ix_incident_due", table_name="incident")
    op.drop_table("incident")
    op.drop_table("override")
    op.drop_table("rotation")
