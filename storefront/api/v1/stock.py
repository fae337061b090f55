"""Stock, device tokens and device sync (DESIGN §3 "Stock")."""
