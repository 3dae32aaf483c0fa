"""OpenLineage for the operator and the sensor; imported only by the OpenLineage provider's listener."""
