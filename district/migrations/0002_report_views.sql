-- Aggregates for `stations district report`: no row-level student data leaves through these.
-- Days follow the session's TimeZone (the report sets it from [report] timezone).

CREATE VIEW report_school_day AS
SELECT c.tapped_at::date AS day,
       coalesce(r.school, '') AS school,
       count(*) AS checkins,
       count(DISTINCT c.student) AS students,
       count(DISTINCT c.room) AS rooms
FROM checkins c LEFT JOIN rooms r ON r.id = c.room
GROUP BY 1, 2;

CREATE VIEW report_class_day AS
SELECT c.tapped_at::date AS day,
       coalesce(r.school, '') AS school,
       c.class_id,
       count(*) AS checkins,
       count(DISTINCT c.student) AS students
FROM checkins c LEFT JOIN rooms r ON r.id = c.room
GROUP BY 1, 2, 3;

CREATE VIEW report_activity_day AS
SELECT c.tapped_at::date AS day,
       coalesce(r.school, '') AS school,
       c.class_id,
       c.station_kind,
       c.activity,
       count(*) AS checkins,
       count(DISTINCT c.student) AS students
FROM checkins c LEFT JOIN rooms r ON r.id = c.room
GROUP BY 1, 2, 3, 4, 5;

CREATE VIEW report_reflection_day AS
SELECT c.tapped_at::date AS day,
       coalesce(r.school, '') AS school,
       c.class_id,
       a.key AS question,
       a.value::int AS answer,
       count(*) AS answers
FROM checkins c LEFT JOIN rooms r ON r.id = c.room,
     jsonb_each_text(c.answers) AS a
GROUP BY 1, 2, 3, 4, 5;
