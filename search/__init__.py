"""Catalogue search: the OpenSearch (Elasticsearch API family) cluster side and its Vietnamese analysis."""
