-- Students erased at a family's request, per room (the DistrictErasure a room's hub sent).
-- The check-ins are deleted; what stays is a tombstone, so that a record of the student still
-- on its way (stored by the hub before the erasure, delivered after it) is refused rather
-- than stored again. Not the student's id: a digest of room and id, which the ingest can
-- compare with and nobody can read back. Dropped with the retention period.
CREATE TABLE erasures (
    digest      bytea PRIMARY KEY,            -- sha256(room || 0x00 || student)
    room        text NOT NULL,
    erased_at   timestamptz NOT NULL,         -- the hub's time of the erasure (its ts)
    ingested_at timestamptz NOT NULL DEFAULT now()
);
