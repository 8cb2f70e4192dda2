"""Word lists the demo store draws from: names, places, catalogue words, review and ticket text.

Every string here is plain ASCII without quotes, commas or backslashes unless a value needs one,
so the vectorised CSV and JSON writers can embed most values without escaping them row by row
(the CSV writer still quotes the fields that need it).
"""

from __future__ import annotations

from dataclasses import dataclass


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE_NAMES = _words(
    "Olivia Emma Charlotte Amelia Sophia Isabella Ava Mia Evelyn Harper Luna Camila Gianna "
    "Elizabeth Eleanor Ella Abigail Sofia Avery Scarlett Emily Aria Penelope Chloe Layla Mila "
    "Nora Hazel Madison Ellie Lily Nova Isla Grace Violet Aurora Riley Zoey Willow Emilia "
    "Stella Zoe Victoria Hannah Addison Leah Lucy Eliana Ivy Everly Lillian Paisley Elena "
    "Naomi Maya Natalie Kinsley Delilah Claire Audrey Aaliyah Ruby Brooklyn Alice Aubrey "
    "Autumn Leilani Savannah Valentina Kennedy Madelyn Josephine Bella Skylar Genesis Sophie "
    "Hailey Sadie Natalia Quinn Caroline Allison Gabriella Anna Serenity Nevaeh Cora Ariana "
    "Emery Lydia Jade Sarah Eva Adeline Madeline Piper Rylee Athena Peyton Everleigh Vivian "
    "Clara Raelynn Liliana Samantha Maria Iris Ayla Eloise Lyla Eliza Hadley Melody Julia "
    "Greta Ingrid Freya Mathilde Hanna Lena Chiara Martina Aisha Priya Mei Yuki Fatima"
)

MALE_NAMES = _words(
    "Liam Noah Oliver James Elijah William Henry Lucas Benjamin Theodore Mateo Levi Sebastian "
    "Daniel Jack Michael Alexander Owen Asher Samuel Ethan Leo Jackson Mason Ezra John Hudson "
    "Luca Aiden Joseph David Jacob Logan Luke Julian Gabriel Grayson Wyatt Matthew Maverick "
    "Dylan Isaac Elias Anthony Thomas Jayden Carter Santiago Ezekiel Charles Josiah Caleb "
    "Cooper Lincoln Miles Christopher Nathan Isaiah Kai Joshua Andrew Angel Adrian Cameron "
    "Nolan Waylon Jaxon Roman Eli Wesley Aaron Ian Christian Ryan Leonardo Brooks Axel Walker "
    "Jonathan Easton Everett Weston Bennett Robert Jameson Landon Silas Jose Beau Micah Colton "
    "Jordan Jeremiah Parker Greyson Rowan Adam Nicholas Theo Xavier Hunter Dominic Jace Gael "
    "River Thiago Kayden Damian August Carson Austin Myles Amir Declan Emmett Ryder Luka "
    "Felix Lukas Jonas Finn Matteo Pierre Hugo Omar Arjun Hiroshi Wei Kwame Tobias Magnus"
)

LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White "
    "Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres "
    "Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts "
    "Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris "
    "Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly "
    "Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza "
    "Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell "
    "Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Fisher Vasquez "
    "Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace West "
    "Cole Hayes Bryant Gibson Ellis Stevens Murray Ford Marshall Owens Mcdonald Harrison "
    "Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Dubois Moreau "
    "Laurent Bernard Rossi Russo Ferrari Esposito Silva Santos Oliveira Costa Tanaka Suzuki "
    "Sato Wang Li Zhang Chen Singh Kumar Shah Okafor Mensah Novak Kowalski Jansen Visser"
)


@dataclass(frozen=True)
class Place:
    """A city customers live in, with what its phone numbers and postal codes look like."""

    city: str
    region: str
    country: str
    postal: str
    """Postal code pattern: ``#`` a digit, ``@`` a capital letter, other characters literal."""
    area_codes: tuple[str, ...]
    """National trunk-less prefixes real numbers of the city start with."""
    utc_offset: int
    """Standard time offset from UTC in hours (daylight saving adds one in summer)."""
    weight: float
    """Share of the store's customers living there (relative)."""


# The store sells mostly in the United States, with customers in Canada, the United Kingdom,
# Germany and Australia; phone prefixes are real area codes or mobile ranges, so the numbers
# pass a phone library's validity check.
PLACES: tuple[Place, ...] = (
    Place("New York", "NY", "US", "100##", ("212", "646", "718", "917"), -5, 9.0),
    Place("Brooklyn", "NY", "US", "112##", ("718", "347"), -5, 4.0),
    Place("Los Angeles", "CA", "US", "900##", ("213", "310", "323"), -8, 8.0),
    Place("San Francisco", "CA", "US", "941##", ("415", "628"), -8, 4.0),
    Place("San Diego", "CA", "US", "921##", ("619", "858"), -8, 3.0),
    Place("Chicago", "IL", "US", "606##", ("312", "773"), -6, 6.0),
    Place("Houston", "TX", "US", "770##", ("713", "281", "832"), -6, 5.0),
    Place("Austin", "TX", "US", "787##", ("512", "737"), -6, 3.0),
    Place("Dallas", "TX", "US", "752##", ("214", "469", "972"), -6, 4.0),
    Place("Phoenix", "AZ", "US", "850##", ("602", "480"), -7, 3.0),
    Place("Philadelphia", "PA", "US", "191##", ("215", "267"), -5, 3.0),
    Place("Seattle", "WA", "US", "981##", ("206", "425"), -8, 3.5),
    Place("Portland", "OR", "US", "972##", ("503", "971"), -8, 2.0),
    Place("Denver", "CO", "US", "802##", ("303", "720"), -7, 2.5),
    Place("Miami", "FL", "US", "331##", ("305", "786"), -5, 3.0),
    Place("Atlanta", "GA", "US", "303##", ("404", "470", "678"), -5, 3.0),
    Place("Boston", "MA", "US", "021##", ("617", "857"), -5, 3.0),
    Place("Minneapolis", "MN", "US", "554##", ("612", "763"), -6, 1.5),
    Place("Nashville", "TN", "US", "372##", ("615", "629"), -6, 1.5),
    Place("Toronto", "ON", "CA", "M#@ #@#", ("416", "647"), -5, 3.0),
    Place("Vancouver", "BC", "CA", "V#@ #@#", ("604", "778"), -8, 2.0),
    Place("Montreal", "QC", "CA", "H#@ #@#", ("514", "438"), -5, 1.5),
    Place("London", "England", "GB", "N# #@@", ("7903", "7412", "7400"), 0, 3.5),
    Place("Manchester", "England", "GB", "M# #@@", ("7712", "7825"), 0, 1.5),
    Place("Edinburgh", "Scotland", "GB", "EH# #@@", ("7723", "7984"), 0, 0.8),
    Place("Berlin", "Berlin", "DE", "10###", ("170", "160", "171"), 1, 2.0),
    Place("Munich", "Bavaria", "DE", "80###", ("172", "173"), 1, 1.2),
    Place("Hamburg", "Hamburg", "DE", "20###", ("174", "175"), 1, 1.0),
    Place("Sydney", "NSW", "AU", "2###", ("412", "421", "433"), 10, 1.5),
    Place("Melbourne", "VIC", "AU", "3###", ("402", "414", "450"), 10, 1.2),
)

#: Country calling codes and digits after the prefix of the places' countries.
COUNTRY_PHONE = {"US": ("1", 7), "CA": ("1", 7), "GB": ("44", 6), "DE": ("49", 7), "AU": ("61", 6)}

EMAIL_DOMAINS = _words(
    "gmail.com gmail.com gmail.com gmail.com yahoo.com outlook.com hotmail.com icloud.com "
    "aol.com proton.me me.com live.com"
)
WORK_DOMAINS = _words("acme-corp.com northwind.io globex.net initech.com umbrella.org hooli.com")

GENDERS = ("female", "male", "other")
MARITAL_STATUSES = ("single", "married", "divorced", "widowed", "domestic partnership")
LOYALTY_TIERS = ("bronze", "silver", "gold", "platinum")
SIGNUP_SOURCES = ("organic", "instagram", "facebook", "google", "referral", "tiktok", "newsletter")


@dataclass(frozen=True)
class Category:
    """A catalogue category: its product lines, product nouns and price range (dollars)."""

    name: str
    lines: tuple[str, ...]
    nouns: tuple[str, ...]
    price_low: float
    price_high: float
    share: float
    """Share of the catalogue and of demand (relative)."""


CATEGORIES: tuple[Category, ...] = (
    Category(
        "apparel",
        ("Essentials", "Weekend", "Studio", "Heritage", "Trail"),
        (
            "T-Shirt",
            "Linen Shirt",
            "Hoodie",
            "Sweater",
            "Chinos",
            "Jeans",
            "Dress",
            "Skirt",
            "Jacket",
            "Parka",
            "Cardigan",
            "Polo",
            "Blouse",
            "Joggers",
            "Shorts",
        ),
        15,
        180,
        0.34,
    ),
    Category(
        "shoes",
        ("Runner", "City", "Summit"),
        ("Sneakers", "Running Shoes", "Boots", "Loafers", "Sandals", "Slip-Ons", "Trail Shoes"),
        40,
        260,
        0.14,
    ),
    Category(
        "accessories",
        ("Essentials", "Heritage", "Voyage"),
        (
            "Tote Bag",
            "Backpack",
            "Wallet",
            "Belt",
            "Scarf",
            "Beanie",
            "Cap",
            "Sunglasses",
            "Watch Strap",
            "Socks Pack",
        ),
        10,
        220,
        0.15,
    ),
    Category(
        "home",
        ("Nest", "Atelier", "Garden"),
        (
            "Throw Blanket",
            "Candle",
            "Ceramic Mug",
            "Vase",
            "Cushion Cover",
            "Table Lamp",
            "Duvet Cover",
            "Planter",
            "Serving Bowl",
        ),
        10,
        400,
        0.12,
    ),
    Category(
        "beauty",
        ("Glow", "Pure", "Ritual"),
        (
            "Face Serum",
            "Moisturiser",
            "Lip Balm",
            "Shampoo",
            "Body Lotion",
            "Eau de Parfum",
            "Cleanser",
            "Hand Cream",
        ),
        8,
        95,
        0.14,
    ),
    Category(
        "electronics",
        ("Pulse", "Echo"),
        (
            "Wireless Earbuds",
            "Bluetooth Speaker",
            "Smart Watch",
            "Headphones",
            "Power Bank",
            "E-Reader",
            "Action Camera",
        ),
        25,
        1400,
        0.11,
    ),
)

ADJECTIVES = _words(
    "Classic Organic Everyday Relaxed Slim Oversized Merino Recycled Lightweight Premium "
    "Vintage Soft Waterproof Cotton Wool Canvas Leather Bamboo Minimal Signature"
)
COLOURS = _words(
    "Black White Navy Olive Sand Charcoal Rust Sage Cream Cobalt Blush Forest Stone Berry"
)

REVIEW_SOURCES = ("trustpilot", "yotpo", "judge.me", "google", "okendo")
REVIEW_TITLES = {
    1: ("Very disappointed", "Fell apart after a week", "Would not recommend", "Waste of money"),
    2: ("Not as described", "Poor quality", "Expected better", "Runs small"),
    3: ("It is okay", "Average", "Decent but pricey", "Mixed feelings"),
    4: ("Really nice", "Good value", "Happy with it", "Almost perfect"),
    5: ("Love it", "Perfect", "Exceeded expectations", "Best purchase this year", "Five stars"),
}
REVIEW_BODIES = {
    1: (
        "The item broke quickly and support was slow to answer.",
        "Nothing like the photos. Returned it.",
    ),
    2: ("The material feels cheap for the price.", "Sizing is off and the colour is duller."),
    3: ("Does the job. Delivery took longer than promised.", "Fine for everyday use."),
    4: ("Good quality and fast shipping. Would buy again.", "Fits well and looks great."),
    5: (
        "Absolutely love it. Already ordered a second one.",
        "Great quality, quick delivery and lovely packaging.",
    ),
}

TICKET_SUBJECTS = (
    "Where is my order",
    "Return request",
    "Wrong size received",
    "Item arrived damaged",
    "Change shipping address",
    "Discount code not working",
    "Refund status",
    "Question about sizing",
    "Cancel my order",
    "Missing item in parcel",
)
TICKET_CHANNELS = ("email", "chat", "phone", "contact form")

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
)

CAMPAIGN_THEMES = {
    "apparel": ("New season arrivals", "Layers for the weekend", "The linen edit"),
    "shoes": ("Step into spring", "Trail-ready footwear", "Sneaker drop"),
    "accessories": ("Finishing touches", "Carry it all", "Gifts under 50"),
    "home": ("Cosy corners", "Refresh your table", "Candlelight season"),
    "beauty": ("Your glow routine", "Self-care Sunday", "Fresh fragrances"),
    "electronics": ("Sound upgrades", "Smart gear for less", "Tech gift guide"),
    "newsletter": ("This week at the store", "Staff picks", "Members only preview"),
}
