"""Payment initiation as the gateway keeps it: the payment-order resources partners create under
an authorised payment consent, the rules that tie each order to what the customer approved, and
its status on the tenant's clock (OBIE Read/Write Data API v4.0, Payment Initiation)."""
