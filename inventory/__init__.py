"""The stock ledger (DESIGN §2 "Stock"): movements, levels, reservations, transfers and device sync."""

# Whatever writes stock imports this package: each product's stock version then changes with every commit that
# moves its stock, whichever process commits it.
import inventory.stock_version  # noqa: F401, E402
