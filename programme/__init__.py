"""The programme's own view (issue 19): figures over certificates, products, sales and stock, and their charts.

Above orders in the layers (DESIGN §2): it reads catalog, stores, inventory and orders, and nothing below imports
it. Every function takes the shop's `today`; none reads the clock."""
