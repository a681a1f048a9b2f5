-- Databricks notebook source
-- Inserts `count` new trips into <catalog>.<schema>.trips: random rows of the NYC
-- taxi sample, picked up now (keeping their duration), with ids after the largest
-- one. Job parameters: catalog, schema, count. The job allows one run at a time,
-- which keeps max(id) + n unique.

-- COMMAND ----------

INSERT INTO IDENTIFIER(:catalog || '.' || :schema || '.trips')
  (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip)
WITH picked AS (
  SELECT *, row_number() OVER (ORDER BY rand()) AS n
  FROM samples.nyctaxi.trips
)
SELECT
  (SELECT coalesce(max(id), 0) FROM IDENTIFIER(:catalog || '.' || :schema || '.trips')) + n AS id,
  current_timestamp() AS tpep_pickup_datetime,
  current_timestamp() + (tpep_dropoff_datetime - tpep_pickup_datetime) AS tpep_dropoff_datetime,
  trip_distance,
  fare_amount,
  pickup_zip,
  dropoff_zip
FROM picked
WHERE n <= CAST(:count AS INT);
