"""Outlet stock pages: stock table, receive, counter sale, count, discrepancies."""
