"""Traceability (issue 17): unit stamps with a signed GS1 Digital Link, the public trace page's facts, the batch's
journey from the stock ledger, scans and copy detection, and EPCIS 2.0 events. Sits above inventory: it reads the
ledger, nothing below reads it."""
