-- Databricks notebook source
-- Creates the source table of the synced table, <catalog>.<schema>.trips, from the
-- NYC taxi sample. Job parameters: catalog, schema. Safe to run again: an existing
-- table (with trips inserted since) is kept as it is.

-- COMMAND ----------

-- id: unique and stable, the synced table's primary key; the order makes it deterministic.
CREATE TABLE IF NOT EXISTS IDENTIFIER(:catalog || '.' || :schema || '.trips')
TBLPROPERTIES (delta.enableChangeDataFeed = true)
AS SELECT
  CAST(row_number() OVER (
    ORDER BY tpep_pickup_datetime, tpep_dropoff_datetime, fare_amount, trip_distance, pickup_zip, dropoff_zip
  ) AS BIGINT) AS id,
  tpep_pickup_datetime,
  tpep_dropoff_datetime,
  trip_distance,
  fare_amount,
  pickup_zip,
  dropoff_zip
FROM samples.nyctaxi.trips;

-- COMMAND ----------

-- TRIGGERED and CONTINUOUS sync read the change data feed; a table made before this job keeps working.
ALTER TABLE IDENTIFIER(:catalog || '.' || :schema || '.trips')
SET TBLPROPERTIES (delta.enableChangeDataFeed = true);

-- COMMAND ----------

-- A primary key column must not be null.
ALTER TABLE IDENTIFIER(:catalog || '.' || :schema || '.trips') ALTER COLUMN id SET NOT NULL;
