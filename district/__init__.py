"""The district tier: ingest from every room's hub into PostgreSQL, and the district's reports.

``stations district ingest`` runs workers on an MQTT 5 shared subscription of the district's
broker (:mod:`district.worker`), writing to PostgreSQL in batches (:mod:`district.store`)
whose schema the command keeps migrated and partitioned by month (:mod:`district.schema`).
``stations district report`` writes aggregate CSVs from SQL views (:mod:`district.report`).
``stations district broker-config`` writes a Mosquitto configuration for the district broker
with an account and ACL per room (:mod:`district.broker_config`); production clusters (EMQX,
VerneMQ) are described in ``district/README.md``. Only the district needs psycopg.
"""
