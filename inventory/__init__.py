"""The stock ledger (DESIGN §2 "Stock"): movements, levels, reservations, transfers and device sync."""
