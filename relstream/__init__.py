"""relstream: relationship-analytics KPIs computed incrementally from a Kafka stream."""
