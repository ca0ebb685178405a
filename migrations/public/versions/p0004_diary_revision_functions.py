"""The two functions behind each school's diary revision (gradebook/diary/cache.py).

Revision ID: p0004
Revises: p0003
Create Date: 2026-11-23

``note_diary_change()`` is the row trigger on a school's tables (installed by s0010 and
by provisioning): it only sets a transaction-local flag, so it takes no lock. Before each
commit the application calls ``bump_diary_revision()``, which, when the flag is set, gives a
new token to one of the bound school's ``diary_revision`` rows that no other transaction holds
(or, when every row is held, waits for the first). The UPDATE is dynamic so that a school not
yet migrated to s0010 (no table, so never flagged) is not an error during an upgrade. Both
run as the caller: the school's own role.
"""

from alembic import op

revision = "p0004"
down_revision = "p0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION public.note_diary_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM set_config('dienynas.diary_changed', 'on', true);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION public.bump_diary_revision() RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE
            renewed integer;
        BEGIN
            IF current_setting('dienynas.diary_changed', true) = 'on' THEN
                EXECUTE 'UPDATE diary_revision SET token = gen_random_uuid(), changed_at = now() '
                        'WHERE id = (SELECT id FROM diary_revision ORDER BY random() LIMIT 1 '
                        'FOR UPDATE SKIP LOCKED)';
                GET DIAGNOSTICS renewed = ROW_COUNT;  -- EXECUTE does not set FOUND
                IF renewed = 0 THEN  -- every row is held: wait for the first
                    EXECUTE 'UPDATE diary_revision SET token = gen_random_uuid(), '
                            'changed_at = now() WHERE id = 1';
                END IF;
                PERFORM set_config('dienynas.diary_changed', 'off', true);
            END IF;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION public.bump_diary_revision()")
    op.execute("DROP FUNCTION public.note_diary_change()")
