-- The district's copy of every room's check-ins, partitioned by the month of the tap.
-- Pseudonymous: student is the roster's sourcedId; no names, e-mail addresses or badge ids.

CREATE TABLE rooms (
    id         text PRIMARY KEY,
    school     text NOT NULL,                 -- OneRoster org sourcedId
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE checkins (
    id           text NOT NULL,               -- the station's check-in id: resends collapse here
    room         text NOT NULL,
    student      text NOT NULL,
    class_id     text NOT NULL,
    station      text NOT NULL,
    station_kind text NOT NULL,
    activity     text NOT NULL,
    answers      jsonb NOT NULL,              -- question id -> 0..10
    tapped_at    timestamptz NOT NULL,
    made_at      timestamptz NOT NULL,
    stored_at    timestamptz NOT NULL,        -- when the room's hub stored it
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    -- The partition key must be part of the key. A record's tapped_at never changes (the hub
    -- sends the bytes it queued), so (id, tapped_at) is as unique as id.
    PRIMARY KEY (id, tapped_at)
) PARTITION BY RANGE (tapped_at);

CREATE INDEX checkins_room_tapped ON checkins (room, tapped_at);

-- Records refused by the ingest, counted per day and reason (never stored).
CREATE TABLE ingest_rejections (
    day    date NOT NULL,
    reason text NOT NULL,
    count  bigint NOT NULL,
    PRIMARY KEY (day, reason)
);
