-- One database per service: no service reads another's tables.
CREATE DATABASE bwai_identity;
CREATE DATABASE bwai_payments;
CREATE DATABASE bwai_webhooks_ingest;
