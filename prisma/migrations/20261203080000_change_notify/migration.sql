-- Writes that bypass the gateway (a batch job, an operator's SQL) must reach its caches too: every
-- change of a cached table NOTIFYs the changed row's keys on channel cachegate_changes, and the gateway
-- (src/db/change-feed.ts) turns them into the same invalidations as its own writes. Hand-written:
-- triggers are outside Prisma's schema language and outside scripts/migrations.ts's drift comparison.
-- The payload holds only keys (ids, tier, parents), never other column values, and the writer's
-- application_name: the gateway skips its own writes (application_name cachegate), which it has
-- invalidated already.

CREATE OR REPLACE FUNCTION cachegate_row_keys(row_data jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object(
    'id', row_data->>'id',
    'productId', row_data->>'productId',
    'tier', row_data->>'tier',
    'venueId', row_data->>'venueId',
    'eventId', row_data->>'eventId',
    'organizationId', row_data->>'organizationId'))
$$;

CREATE OR REPLACE FUNCTION cachegate_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  payload jsonb := jsonb_build_object('table', TG_TABLE_NAME, 'app', current_setting('application_name', true));
BEGIN
  IF TG_OP <> 'DELETE' THEN payload := payload || jsonb_build_object('new', cachegate_row_keys(to_jsonb(NEW))); END IF;
  IF TG_OP <> 'INSERT' THEN payload := payload || jsonb_build_object('old', cachegate_row_keys(to_jsonb(OLD))); END IF;
  PERFORM pg_notify('cachegate_changes', payload::text);
  RETURN NULL;
END
$$;

DO $$
DECLARE
  cached_table text;
BEGIN
  FOREACH cached_table IN ARRAY ARRAY['Product', 'MemberPrice', 'Inventory', 'Category', 'Event', 'Venue', 'Seat'] LOOP
    EXECUTE format(
      'CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION cachegate_notify_change()',
      cached_table || '_notify_change', cached_table);
  END LOOP;
END
$$;
