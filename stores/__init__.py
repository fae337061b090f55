"""Outlets (district shops, fair kiosks), their areas, and staff membership."""
