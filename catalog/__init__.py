"""Products, producers, OCOP certificates and batches; the certification rules."""
