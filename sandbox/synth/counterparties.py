"""Who the synthetic history pays and is paid by: card merchants, employers, landlords,
utilities, councils, suppliers and customers abroad."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Merchant:
    """A card merchant: name, ISO 18245 category code, typical spend range in pounds."""

    name: str
    mcc: str
    low: float
    high: float


GROCERS = (
    Merchant("Tesco Stores", "5411", 8, 95),
    Merchant("Sainsbury's", "5411", 6, 110),
    Merchant("Aldi", "5411", 5, 70),
    Merchant("Co-op Food", "5411", 3, 25),
    Merchant("Waitrose", "5411", 10, 120),
)
EATING_OUT = (
    Merchant("Pret A Manger", "5814", 3, 12),
    Merchant("Costa Coffee", "5814", 2.5, 8),
    Merchant("Wagamama", "5812", 14, 45),
    Merchant("Nando's", "5812", 12, 40),
    Merchant("Greggs", "5814", 1.5, 7),
)
TRANSPORT = (
    Merchant("TfL Travel Charge", "4111", 1.75, 8.5),
    Merchant("Trainline", "4112", 9, 85),
    Merchant("Uber", "4121", 6, 28),
    Merchant("Shell", "5541", 25, 80),
)
SHOPPING = (
    Merchant("Amazon UK", "5942", 5, 120),
    Merchant("John Lewis", "5311", 15, 250),
    Merchant("Boots", "5912", 3, 35),
    Merchant("IKEA", "5712", 10, 300),
    Merchant("Argos", "5399", 8, 150),
)
SUBSCRIPTIONS = (
    Merchant("Netflix", "4899", 10.99, 10.99),
    Merchant("Spotify", "4899", 11.99, 11.99),
    Merchant("PureGym", "7997", 24.99, 24.99),
    Merchant("Apple iCloud", "5818", 2.99, 2.99),
)
BUSINESS_SPEND = (
    Merchant("Booker Wholesale", "5411", 80, 900),
    Merchant("Screwfix", "5251", 10, 240),
    Merchant("Google Workspace", "5818", 11.5, 46),
    Merchant("Royal Mail", "9402", 3, 60),
    Merchant("Shell", "5541", 40, 110),
)

EMPLOYERS = ("Northwind Analytics Ltd", "Riverside NHS Trust", "Brightwell Logistics plc")
LANDLORDS = ("Harbour Lettings", "Kingsway Property Management", "Mrs J Whitfield")
UTILITIES = (
    ("Octopus Energy", "OCTO"),
    ("Thames Water", "TWAT"),
    ("BT Broadband", "BTBB"),
    ("Vodafone", "VODA"),
)
COUNCILS = ("Camden Council Tax", "Leeds City Council", "Bristol City Council")
SUPPLIERS_GB = ("Fresh Fields Produce Ltd", "Union Coffee Roasters", "Bakehouse Supplies Ltd")
SUPPLIERS_CN = (
    "Shenzhen Bright Textile Co",
    "Ningbo Harbour Ceramics Co",
    "Yiwu Crafts Trading Co",
)
CUSTOMERS_US = ("Maple & Finch Inc", "Bluebird Home LLC", "Harbor Goods Co")
CUSTOMERS_EU = ("Casa Lumen SL", "Atelier Nord GmbH", "Maison Tilleul SARL")
