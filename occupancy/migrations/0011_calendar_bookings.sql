-- Bookings synced from room calendars (issue #15). Each occurrence of a
-- calendar event is keyed by (room, UID, RECURRENCE-ID); it points at its row
-- in analytics_bookings (room_id, start_ts, end_ts), so a moved or cancelled
-- meeting replaces or removes exactly that row. Written by `occupancy
-- bookings sync` (analytics role), read by it only.
CREATE TABLE calendar_booking_events (
    room_id            text NOT NULL,
    calendar           text NOT NULL,   -- the calendar's URL or file it came from
    uid                text NOT NULL,
    recurrence_id      text NOT NULL DEFAULT '',  -- '' for single events, else UTC ISO
    start_ts           timestamptz NOT NULL,
    end_ts             timestamptz NOT NULL CHECK (end_ts > start_ts),
    expected_attendees integer,
    synced_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, uid, recurrence_id)
);
CREATE INDEX calendar_booking_events_window ON calendar_booking_events (room_id, calendar, start_ts);

-- Per calendar: the server's sync token at the last sync (unchanged token and
-- window: nothing to do) and the window that was read.
CREATE TABLE calendar_sync_state (
    calendar     text PRIMARY KEY,
    room_id      text NOT NULL,
    sync_token   text,
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    synced_at    timestamptz NOT NULL DEFAULT now()
);
